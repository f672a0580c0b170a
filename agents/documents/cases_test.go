package documents

import "github.com/exops/exops/cases"

// parseEvent is the intake's own validation.
var parseEvent = cases.ParseEvent
