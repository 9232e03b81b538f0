package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/pathways-se/pathways/lang"
)

// pageTemplates are every console page template and the printable extract.
func pageTemplates(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../extract/templates/*.html")
	return append(files, more...)
}

var (
	tKey    = regexp.MustCompile(`\{\{-?[^}]*?\bt\s+"([^"]+)"`)
	codeKey = regexp.MustCompile(`\bcode\s+"([^"]+)"\s+"([^"]+)"`)
)

// usedKeys walks every template and every Go file of the module for the
// catalogue keys they use: {{t "key"}}, {{code "kind" "value"}}, and Go
// string literals shaped like a key of a catalogue area (l.T("key"), a
// key kept in a struct for the template); plus the keys lang's own
// mappings of English lines use.
func usedKeys(t *testing.T) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	add := func(key, where string) { used[key] = append(used[key], where) }
	for _, f := range pageTemplates(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tKey.FindAllStringSubmatch(string(b), -1) {
			add(m[1], f)
		}
		for _, m := range codeKey.FindAllStringSubmatch(string(b), -1) {
			add("code."+m[1]+"."+m[2], f)
		}
	}
	areas := map[string]bool{}
	for _, k := range lang.Keys(lang.Swedish) {
		areas[strings.SplitN(k, ".", 2)[0]] = true
	}
	keyLike := regexp.MustCompile(`^([a-z0-9]+)\.[a-z0-9_.-]*[a-z0-9]$`)
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if m := keyLike.FindStringSubmatch(s); m != nil && areas[m[1]] && !strings.HasSuffix(s, ".html") && !strings.HasSuffix(s, ".yaml") {
				add(s, fset.Position(lit.Pos()).String())
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(lang.EventKeys(), lang.MessageKeys()...) {
		add(k, "lang")
	}
	return used
}

// Every key a page or Go code uses is in the Swedish and the English
// catalogue: a missing Swedish message would show staff the bare key.
func TestEveryUsedKeyIsInBothCatalogues(t *testing.T) {
	used := usedKeys(t)
	if len(used) < 300 {
		t.Fatalf("found only %d used keys: the walk is broken", len(used))
	}
	var missing []string
	for key, where := range used {
		for _, tag := range lang.Supported {
			if !lang.Has(tag, key) {
				missing = append(missing, tag+": "+key+" (used in "+where[0]+")")
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error("missing from the catalogue: " + m)
	}
	// The check itself can fail: a key only one catalogue has is caught.
	if !lang.Has(lang.Swedish, "layout.signout") || lang.Has(lang.Swedish, "layout.no_such_key") {
		t.Fatal("lang.Has does not tell defined keys from undefined ones")
	}
}

var (
	action    = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	styleEtc  = regexp.MustCompile(`(?is)<(style|script)\b.*?</(style|script)>`)
	tag       = regexp.MustCompile(`(?s)<[^>]*>`)
	entity    = regexp.MustCompile(`&[a-zA-Z]+;|&#[0-9]+;`)
	wordyAttr = regexp.MustCompile(`(?i)\b(aria-label|aria-description|placeholder|title|alt)\s*=\s*"([^"]*)"`)
)

// literalText lists the words a template writes itself, outside {{t}}:
// text between tags and the attributes people read.
func literalText(src string) []string {
	src = styleEtc.ReplaceAllString(src, "")
	src = action.ReplaceAllString(src, "\x00")
	var out []string
	hasLetter := func(s string) bool {
		for _, r := range entity.ReplaceAllString(s, "") {
			if unicode.IsLetter(r) {
				return true
			}
		}
		return false
	}
	for _, tg := range tag.FindAllString(src, -1) {
		for _, m := range wordyAttr.FindAllStringSubmatch(tg, -1) {
			if hasLetter(m[2]) {
				out = append(out, m[1]+"="+strings.TrimSpace(m[2]))
			}
		}
	}
	for _, text := range strings.Split(tag.ReplaceAllString(src, "\x00"), "\x00") {
		if hasLetter(text) {
			out = append(out, strings.TrimSpace(text))
		}
	}
	return out
}

// noLiteralExceptions lists templates allowed to write their own words;
// it is kept empty.
var noLiteralExceptions = map[string]bool{}

// No page template writes words of its own: everything people read comes
// from the catalogues, in their language.
func TestTemplatesHaveNoLiteralText(t *testing.T) {
	if got := literalText(`<p title="Hello">{{t "a.b"}} <b>Hej</b></p>`); len(got) != 2 {
		t.Fatalf("the check misses literal text: %q", got)
	}
	for _, f := range pageTemplates(t) {
		if noLiteralExceptions[filepath.Base(f)] {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range literalText(string(b)) {
			t.Errorf("%s writes its own words: %q", f, w)
		}
	}
}
