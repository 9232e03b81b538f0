package workflows

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every change the pathway workflow asks w.version about is listed in
// changes: an unlisted (say, misspelt) ID would quietly record version
// markers on every new pathway again. A change waiting for a release is
// listed at a level above the current one.
func TestEveryAskedChangeIsListed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	asked := regexp.MustCompile(`w\.version\(ctx, "([^"]+)"\)`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range asked.FindAllStringSubmatch(string(src), -1) {
			seen[m[1]] = true
			if _, ok := changes[m[1]]; !ok {
				t.Errorf("%s asks about change %q, which versions.go does not list", f, m[1])
			}
		}
	}
	for id, level := range changes {
		if !seen[id] {
			t.Errorf("versions.go lists %q, which nothing asks about", id)
		}
		if level < 1 || level > knownLevel+1 {
			t.Errorf("change %q at level %d: list it at 1..%d", id, level, knownLevel+1)
		}
	}
	if len(seen) == 0 {
		t.Fatal("found no w.version calls: the pattern no longer matches the code")
	}
}
