package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/exops/exops"

// TestArchitecture enforces the import rules of shared/design.md, so that
// swapping Slack, the model provider or the database touches one folder.
func TestArchitecture(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}\t{{join .Deps \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// third-party module → the only package (and its tests' helpers) allowed to import it
	owner := map[string]string{
		"github.com/slack-go/slack":  module + "/bot",
		"github.com/tmc/langchaingo": module + "/agents",
		"go.etcd.io/bbolt":           module + "/cases/bolt",
		"github.com/nats-io/nats.go": module + "/connectors",
		"github.com/jackc/pgx":       module + "/cases/postgres",
		"github.com/robfig/cron":     "", // checked below: any one package
		"github.com/ledongthuc/pdf":  "",
	}
	// adapter packages: each may import cases, never another adapter
	adapters := []string{"/policies", "/audit", "/agents", "/connectors", "/bot"}
	pdfUsers := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "\t")
		pkg, imports, deps := parts[0], strings.Fields(parts[1]), strings.Fields(parts[2])
		rel := strings.TrimPrefix(pkg, module)
		if rel == "/cases/desk" {
			// The application layer knows the domain and nothing else: the
			// adapters it uses are interfaces of its own.
			for _, d := range deps {
				if isThirdParty(d) && !strings.HasPrefix(d, module+"/") {
					t.Errorf("cases/desk depends on %s: the application layer uses the standard library only", d)
				}
				if strings.HasPrefix(d, module+"/") && d != module+"/cases" {
					t.Errorf("cases/desk depends on %s: it sees adapters only through its own interfaces", d)
				}
			}
		}
		for _, a := range adapters {
			if strings.HasPrefix(rel, a) && slices.Contains(deps, module+"/cases/desk") {
				t.Errorf("%s depends on cases/desk: adapters meet the application layer through interfaces, not imports", pkg)
			}
		}
		if rel == "/cases" {
			for _, d := range deps {
				if isThirdParty(d) {
					t.Errorf("cases depends on %s: the domain uses the standard library only", d)
				}
				if strings.HasPrefix(d, module+"/") {
					t.Errorf("cases imports %s: the engine sees adapters only through its own interfaces", d)
				}
			}
		}
		for _, imp := range imports {
			for prefix, allowed := range owner {
				if !strings.HasPrefix(imp, prefix) {
					continue
				}
				if prefix == "github.com/ledongthuc/pdf" {
					pdfUsers[pkg] = true
					continue
				}
				if allowed != "" && pkg != allowed && !strings.HasPrefix(pkg, allowed+"/") {
					t.Errorf("%s imports %s: only %s may", pkg, imp, allowed)
				}
			}
			if imp == module+"/cmd/exops" {
				t.Errorf("%s imports cmd/exops: nothing may", pkg)
			}
			for _, a := range adapters {
				if strings.HasPrefix(rel, a) && strings.HasPrefix(imp, module) {
					irel := strings.TrimPrefix(imp, module)
					for _, b := range adapters {
						if b != a && strings.HasPrefix(irel, b) {
							t.Errorf("%s imports %s: adapters import cases, never each other", pkg, imp)
						}
					}
				}
			}
			if strings.HasPrefix(rel, "/cases/bolt") && strings.HasPrefix(imp, module) {
				irel := strings.TrimPrefix(imp, module)
				if irel != "/cases" && irel != "/audit" {
					t.Errorf("%s imports %s: storage knows cases and audit only", pkg, imp)
				}
			}
		}
	}
	if len(pdfUsers) > 1 {
		t.Errorf("ledongthuc/pdf is imported by %d packages %v: keep PDF parsing in one place", len(pdfUsers), pdfUsers)
	}
}

func isThirdParty(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".")
}
