// Package programmes loads programme definitions (YAML files) and validates
// them against the step-type registry at start, so a bad definition fails
// the worker's start, never a running pathway.
//
// A validation error names the file, the line and the field:
//
//	programmes/definitions/adult.yaml:14: steps[1].duration_days: must be positive
//
// Versions: a pathway copies its programme into its workflow input when it
// starts (pathway.Start.Programme) and keeps that copy to the end, so a
// changed file applies only to pathways started afterwards, or to an
// explicit re-plan. Raise version whenever a definition changes.
package programmes

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Catalog holds the current version of each programme.
type Catalog struct {
	byName map[string]pathway.Programme
	names  []string
	files  map[string]string
}

// Errors are all the problems found in the definitions, one per line.
type Errors []*FieldError

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, fe := range e {
		s[i] = fe.Error()
	}
	return strings.Join(s, "\n")
}

// FieldError is one problem in one definition file.
type FieldError struct {
	File  string
	Line  int
	Field string // e.g. steps[1].duration_days; empty for the whole file
	Msg   string
}

func (e *FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Field + ": " + e.Msg
}

// Load reads every *.yaml file in dir and reports every problem found.
func Load(dir string, reg *steps.Registry) (*Catalog, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no programme definitions (*.yaml) in %s", dir)
	}
	sort.Strings(files)
	c := &Catalog{byName: map[string]pathway.Programme{}, files: map[string]string{}}
	var errs Errors
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		p, ferrs := Parse(f, b, reg)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		if first, dup := c.files[p.Name]; dup {
			errs = append(errs, &FieldError{File: f, Line: 0, Field: "name", Msg: fmt.Sprintf("programme %q is already defined in %s", p.Name, first)})
			continue
		}
		c.byName[p.Name] = p
		c.files[p.Name] = f
		c.names = append(c.names, p.Name)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Parse decodes and validates one definition; file names the source in errors.
func Parse(file string, data []byte, reg *steps.Registry) (pathway.Programme, Errors) {
	var p pathway.Programme
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return p, Errors{yamlError(file, err)}
	}
	if len(doc.Content) == 0 {
		return p, Errors{{File: file, Msg: "the file is empty"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return p, Errors{{File: file, Line: root.Line, Msg: "a programme definition must be a mapping"}}
	}
	v := &validator{file: file, root: root}
	v.unknownFields(root, "", reflect.TypeOf(pathway.Programme{}))
	if len(v.errs) > 0 {
		return p, v.errs
	}
	if err := root.Decode(&p); err != nil {
		return p, Errors{yamlError(file, err)}
	}
	v.programme(p, reg)
	return p, v.errs
}

// Validate checks one definition without a file (e.g. a programme built in
// code); the errors name fields but no lines.
func Validate(p pathway.Programme, reg *steps.Registry) error {
	var node yaml.Node
	if err := node.Encode(p); err != nil {
		return err
	}
	v := &validator{root: &node, noLines: true}
	v.programme(p, reg)
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

func yamlError(file string, err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &FieldError{File: file, Line: n, Msg: m[2]}
	}
	return &FieldError{File: file, Msg: msg}
}

type validator struct {
	file    string
	root    *yaml.Node
	noLines bool
	errs    Errors
}

// node finds the node of a field path such as "steps[1].duration_days", and
// whether it is present; a missing field is reported at its parent's line.
func (v *validator) node(path string) (*yaml.Node, bool) {
	n := v.root
	if path == "" {
		return n, true
	}
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			key = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		next := mapValue(n, key)
		if next == nil {
			return n, false
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return n, false
			}
			n = n.Content[idx]
		}
	}
	return n, true
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (v *validator) fail(path, format string, args ...any) {
	n, _ := v.node(path)
	line := n.Line
	if v.noLines {
		line = 0
	}
	v.errs = append(v.errs, &FieldError{File: v.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// required reports a missing field and says whether it is present.
func (v *validator) required(path string) bool {
	if v.noLines {
		return true // no file: presence is judged by value
	}
	if _, ok := v.node(path); !ok {
		v.fail(path, "is required")
		return false
	}
	return true
}

// unknownFields refuses keys the definition does not know (typos).
func (v *validator) unknownFields(n *yaml.Node, prefix string, t reflect.Type) {
	if n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			fields[tag] = t.Field(i).Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		ft, ok := fields[k.Value]
		if !ok {
			known := make([]string, 0, len(fields))
			for f := range fields {
				known = append(known, f)
			}
			sort.Strings(known)
			v.errs = append(v.errs, &FieldError{File: v.file, Line: k.Line, Field: path, Msg: "unknown field; known fields are " + strings.Join(known, ", ")})
			continue
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && val.Kind == yaml.SequenceNode {
			for j, item := range val.Content {
				v.unknownFields(item, fmt.Sprintf("%s[%d]", path, j), ft.Elem())
			}
		}
	}
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)

func (v *validator) programme(p pathway.Programme, reg *steps.Registry) {
	if v.required("name") && !namePattern.MatchString(p.Name) {
		v.fail("name", "%q must be 2–40 lower-case letters, digits, - or _, starting with a letter", p.Name)
	}
	if v.required("version") && p.Version < 1 {
		v.fail("version", "must be 1 or more")
	}
	if v.required("title") && strings.TrimSpace(p.Title) == "" {
		v.fail("title", "must not be empty")
	}
	minOK, maxOK := v.required("min_age"), v.required("max_age")
	if minOK && p.MinAge < 16 {
		v.fail("min_age", "%d is below 16, the youngest a centre serves", p.MinAge)
	}
	if maxOK && p.MaxAge > 70 {
		v.fail("max_age", "%d is above 70", p.MaxAge)
	}
	if minOK && maxOK && p.MaxAge < p.MinAge {
		v.fail("max_age", "age range %d–%d is out of order: max_age must be at least min_age", p.MinAge, p.MaxAge)
	}
	if v.required("time_limit_days") && p.TimeLimitDays <= 0 {
		v.fail("time_limit_days", "must be positive")
	}
	if p.FirstContactHours < 0 {
		v.fail("first_contact_hours", "must not be negative")
	}
	if p.MappingDays < 0 {
		v.fail("mapping_days", "must not be negative")
	}
	if p.MappingReminder < 0 || (p.MappingDays > 0 && p.MappingReminder >= p.MappingDays) {
		v.fail("mapping_reminder_days", "must be from 0 to less than mapping_days (%d)", p.MappingDays)
	}
	for i, d := range p.FollowUpDays {
		if d <= 0 || (i > 0 && d <= p.FollowUpDays[i-1]) {
			v.fail(fmt.Sprintf("follow_up_days[%d]", i), "%d: follow-up days must be positive and rising", d)
		}
	}
	if !v.required("steps") {
		return
	}
	if len(p.Steps) == 0 {
		v.fail("steps", "at least one default step is required")
		return
	}
	ids := map[string]int{}
	total := 0
	for i, s := range p.Steps {
		at := fmt.Sprintf("steps[%d]", i)
		if v.required(at+".id") && !namePattern.MatchString(s.ID) {
			v.fail(at+".id", "%q must be 2–40 lower-case letters, digits, - or _, starting with a letter", s.ID)
		} else if j, dup := ids[s.ID]; dup {
			v.fail(at+".id", "%q is also the id of steps[%d]", s.ID, j)
		}
		ids[s.ID] = i
		if v.required(at+".title") && strings.TrimSpace(s.Title) == "" {
			v.fail(at+".title", "must not be empty")
		}
		if v.required(at+".duration_days") && s.DurationDays <= 0 {
			v.fail(at+".duration_days", "must be positive")
		}
		total += s.DurationDays
		if !v.required(at + ".type") {
			continue
		}
		t, ok := reg.Get(s.Type)
		if !ok {
			v.fail(at+".type", "unknown step type %q; known types are %s", s.Type, typeNames(reg))
			continue
		}
		if err := t.Validate(s.Params); err != nil {
			path := at + ".params"
			if _, present := v.node(path); !present {
				path = at
			}
			v.fail(path, "%s", err)
		}
	}
	for i, name := range p.AllowedSteps {
		if _, ok := reg.Get(name); !ok {
			v.fail(fmt.Sprintf("allowed_steps[%d]", i), "unknown step type %q; known types are %s", name, typeNames(reg))
		}
	}
	if p.TimeLimitDays > 0 && total > p.TimeLimitDays {
		v.fail("steps", "the default steps take %d days, more than time_limit_days (%d)", total, p.TimeLimitDays)
	}
	if p.EducationFirst && p.Steps[0].Type != "" && !steps.IsEducation(reg, p.Steps[0].Type) {
		v.fail("steps[0].type", "education_first is set, but %q is not an education step", p.Steps[0].Type)
	}
}

func typeNames(reg *steps.Registry) string {
	var names []string
	for _, t := range reg.All() {
		names = append(names, t.Name())
	}
	return strings.Join(names, ", ")
}

// Get returns a programme by name.
func (c *Catalog) Get(name string) (pathway.Programme, bool) {
	p, ok := c.byName[name]
	return p, ok
}

// All returns the programmes in file order.
func (c *Catalog) All() []pathway.Programme {
	out := make([]pathway.Programme, 0, len(c.names))
	for _, n := range c.names {
		out = append(out, c.byName[n])
	}
	return out
}

// ForAge returns the programme for a participant of that age when none is
// chosen: of those whose age range includes age, the narrowest range, then
// the first in file order. So youth (16–24) wins over a job track open to
// 18–66, and adult (25–66) over it too; a job track is chosen by name.
func (c *Catalog) ForAge(age int) (pathway.Programme, bool) {
	var best pathway.Programme
	found := false
	for _, n := range c.names {
		p := c.byName[n]
		if age < p.MinAge || age > p.MaxAge {
			continue
		}
		if !found || p.MaxAge-p.MinAge < best.MaxAge-best.MinAge {
			best, found = p, true
		}
	}
	return best, found
}
