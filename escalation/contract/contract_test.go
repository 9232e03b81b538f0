package contract

import (
	"os/exec"
	"strings"
	"testing"
)

// The workflows import this package, so it must pull in no I/O.
func TestContractImportsNoIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/jackc/", "database/sql", "net/http", "net/smtp", "go.temporal.io/sdk/client"} {
			if dep == bad || strings.HasPrefix(dep, bad) {
				t.Errorf("escalation/contract depends on %s", dep)
			}
		}
	}
}
