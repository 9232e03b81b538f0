package workflows_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// forbidden are packages no workflow may reach: the database, HTTP and SMTP
// belong in activities. The Temporal SDK reaches net/http for its own
// client; paths through go.temporal.io are the runtime's, not ours.
var forbidden = []string{"github.com/jackc/pgx", "net/http", "net/smtp", "database/sql"}

// The workflows (the pathway's, and the sweep's when it moves here) import
// contracts only: their dependency closure holds no database, HTTP or SMTP
// package except through the SDK.
func TestWorkflowsImportOnlyContracts(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports", "github.com/pathways-se/pathways/workflows/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		imports[p.ImportPath] = p.Imports
	}
	// Walk from every workflows package, remembering how each was reached.
	via := map[string]string{}
	var queue []string
	for p := range imports {
		if strings.HasPrefix(p, "github.com/pathways-se/pathways/workflows") {
			via[p] = ""
			queue = append(queue, p)
		}
	}
	if len(queue) == 0 {
		t.Fatal("go list found no workflows package")
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if strings.HasPrefix(p, "go.temporal.io/") {
			continue
		}
		if isForbidden(p) {
			t.Errorf("workflows reach %s: %s", p, chain(via, p))
			continue
		}
		for _, next := range imports[p] {
			if _, seen := via[next]; !seen {
				via[next] = p
				queue = append(queue, next)
			}
		}
	}
	if _, ok := via["github.com/pathways-se/pathways/pathway"]; !ok {
		t.Error("the walk never reached the pathway contract: the import graph was not read")
	}
}

func isForbidden(p string) bool {
	for _, bad := range forbidden {
		if p == bad || strings.HasPrefix(p, bad+"/") {
			return true
		}
	}
	return false
}

// chain is the import path from a workflows package to p.
func chain(via map[string]string, p string) string {
	path := []string{p}
	for via[p] != "" {
		p = via[p]
		path = append([]string{p}, path...)
	}
	return strings.Join(path, " → ")
}
