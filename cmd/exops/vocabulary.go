package main

import (
	"github.com/exops/exops/agents"
	"github.com/exops/exops/policies"
)

// vocabularyOf is what the question parser reads from the policy in force:
// its teams and their channels.
func vocabularyOf(p *policies.Policy) agents.Vocabulary {
	var v agents.Vocabulary
	if p == nil {
		return v
	}
	for _, name := range p.Teams() {
		v.Teams = append(v.Teams, agents.Team{Name: name, Channel: p.TeamChannel(name)})
	}
	return v
}
