package policies

import _ "embed"

// Example is policies/examples/distributor.yaml, built into the binary so
// that "exops demo" runs anywhere.
//
//go:embed examples/distributor.yaml
var Example []byte
