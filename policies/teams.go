package policies

// TeamChannel is the channel of a team of the policy ("" for no such team):
// with Teams, what the question parser knows teams by.
func (p *Policy) TeamChannel(name string) string { return p.file.Teams[name].Channel }
