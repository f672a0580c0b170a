package postgres

import (
	"context"
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

func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T, n int) []cases.Store {
		first, url, schema := openTest(t)
		rs := []cases.Store{first}
		for len(rs) < n {
			s, err := Open(context.Background(), url, Options{Schema: schema, MaxConns: 16})
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, s)
		}
		return rs
	})
}
