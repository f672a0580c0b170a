package cases

import "time"

// AgeBand is one band of backlog age.
type AgeBand struct {
	Label string
	Upper time.Duration // exclusive; 0: no upper bound
}

// AgeBands are the backlog age bands, youngest first: the one set that
// `exops report`, the daily digest, /metrics and the Home tab count by.
var AgeBands = []AgeBand{
	{"<4h", 4 * time.Hour}, {"4h-1d", 24 * time.Hour}, {"1d-3d", 72 * time.Hour}, {"3d-7d", 7 * 24 * time.Hour}, {">7d", 0},
}

// AgeBandOf names the band of an age.
func AgeBandOf(age time.Duration) string {
	for _, b := range AgeBands {
		if b.Upper == 0 || age < b.Upper {
			return b.Label
		}
	}
	return AgeBands[len(AgeBands)-1].Label
}
