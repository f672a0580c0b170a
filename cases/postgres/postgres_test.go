package postgres

import (
	"testing"

	"github.com/exops/exops/cases"
	"github.com/exops/exops/cases/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cases.Store {
		s, _, _ := openTest(t)
		return s
	})
}
