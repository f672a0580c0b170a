package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/exops/exops/agents"
	"github.com/exops/exops/policies"
)

// ask answers an operator's question from the case store and the audit
// log: exops ask [--db PATH] [--policy FILE] [--as USER] "QUESTION". The
// policy names the teams and channels a question may name. With EXOPS_LLM_PROVIDER set to a
// provider that calls tools (openai, anthropic) a model phrases the answer
// from the store's lookups; otherwise, and whenever the model fails, the
// rules answer. Model warnings go to stderr; the answer to stdout.
func (c *cli) ask(args []string) int {
	fs := c.flags("ask", `ask [--db PATH] [--policy FILE] [--as USER] [-v] "QUESTION"`)
	db := c.dbFlag(fs)
	polPath := fs.String("policy", "", "policy `file` whose teams and channels questions name (default: the built-in example)")
	as := fs.String("as", "", "the Slack user `id` asking, for \"my approval\" and \"assigned to me\"")
	verbose := fs.Bool("v", false, "also print which agent answered and the cases cited")
	// Go's flag stops at the first argument; accept the question before or
	// after the flags.
	var words []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		words, args = append(words, args[0]), args[1:]
	}
	if code, stop := parse(fs, args); stop {
		return code
	}
	words = append(words, fs.Args()...)
	question := strings.TrimSpace(strings.Join(words, " "))
	if question == "" {
		return c.usageError(`ask needs a question, such as: exops ask "status of order SO-1042?"`)
	}
	cfg, err := agents.ConfigFromEnv(c.getenv)
	if err != nil {
		return c.fail(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		logger = slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	agent, err := agents.New(cfg, logger, c.clock)
	if err != nil {
		return c.fail(err)
	}
	var pol *policies.Policy
	if *polPath == "" {
		pol, err = policies.Parse(policies.Example)
	} else {
		pol, err = policies.Load(*polPath)
	}
	if err != nil {
		return c.fail(err)
	}
	s, err := c.openStore(*db)
	if err != nil {
		return c.fail(err)
	}
	defer s.Close()
	ans, err := agent.Answerer(s, s).WithVocabulary(func() agents.Vocabulary { return vocabularyOf(pol) }).AskAs(c.ctx, *as, question)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, ans.Text)
	if *verbose {
		fmt.Fprintf(c.stderr, "answered by %s; cases cited: %s\n", ans.By, or(strings.Join(ans.Cases, ", "), "none"))
	}
	return exitOK
}
