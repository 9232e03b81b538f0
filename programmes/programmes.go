// Package programmes loads programme definitions (YAML files) and validates
// them against the step-type registry at start, so a bad definition fails
// the worker's start, never a running pathway.
package programmes

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Catalog holds the current version of each programme.
type Catalog struct {
	byName map[string]pathway.Programme
	names  []string
}

// Load reads every *.yaml file in dir.
func Load(dir string, reg *steps.Registry) (*Catalog, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no programme definitions (*.yaml) in %s", dir)
	}
	sort.Strings(files)
	c := &Catalog{byName: map[string]pathway.Programme{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var p pathway.Programme
		if err := yaml.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if err := Validate(p, reg); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if _, dup := c.byName[p.Name]; dup {
			return nil, fmt.Errorf("%s: programme %q is defined twice", f, p.Name)
		}
		c.byName[p.Name] = p
		c.names = append(c.names, p.Name)
	}
	return c, nil
}

// Validate checks one definition.
func Validate(p pathway.Programme, reg *steps.Registry) error {
	switch {
	case p.Name == "":
		return fmt.Errorf("name is required")
	case p.Version < 1:
		return fmt.Errorf("version must be 1 or more")
	case p.MinAge < 16 || p.MaxAge < p.MinAge:
		return fmt.Errorf("age range %d–%d is out of order", p.MinAge, p.MaxAge)
	case p.TimeLimitDays <= 0:
		return fmt.Errorf("time_limit_days must be positive")
	case len(p.Steps) == 0:
		return fmt.Errorf("steps: at least one default step is required")
	}
	for i, s := range p.Steps {
		if err := reg.ValidateSpec(s); err != nil {
			return fmt.Errorf("steps[%d]: %w", i, err)
		}
	}
	return nil
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

// ForAge returns the first programme whose age range includes age.
func (c *Catalog) ForAge(age int) (pathway.Programme, bool) {
	for _, n := range c.names {
		p := c.byName[n]
		if age >= p.MinAge && age <= p.MaxAge {
			return p, true
		}
	}
	return pathway.Programme{}, false
}
