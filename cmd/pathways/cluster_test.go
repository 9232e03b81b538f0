package main

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"gopkg.in/yaml.v3"

	temporalconfig "github.com/pathways-se/pathways/deploy/temporal"
	"github.com/pathways-se/pathways/devenv"
)

// Temporal keeps membership ports in a PostgreSQL smallint: a port above
// 32767 fails the server's start. Every port the cluster plans, and every
// port in the config template as the cluster fills it in, stays below; a
// base port that would cross the line is refused before anything starts.
func TestClusterPortsStayBelowSmallint(t *testing.T) {
	plan := devenv.PlanClusterPorts(DefaultClusterBasePort, 2)
	if err := plan.Check(false); err != nil {
		t.Fatal(err)
	}
	planned := map[int]string{}
	for name, p := range plan.All() {
		if p >= 32768 {
			t.Errorf("%s: port %d", name, p)
		}
		if other, dup := planned[p]; dup {
			t.Errorf("%s and %s share port %d", name, other, p)
		}
		planned[p] = name
	}

	// The template, rendered with the cluster's environment (the functions
	// it may use are those of Temporal's sprig that the file names).
	env := map[string]string{}
	srv := &devenv.TemporalServer{Ports: plan, ConfigDir: "/cfg"}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	funcs := template.FuncMap{
		"env": func(k string) string { return env[k] },
		"default": func(d string, v string) string {
			if v == "" {
				return d
			}
			return v
		},
		"quote": func(s string) string { return strconv.Quote(s) },
	}
	tpl, err := template.New("pathways.yaml").Funcs(funcs).Parse(string(temporalconfig.Config))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tpl.Execute(&out, nil); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("rendered template: %v\n%s", err, out.String())
	}
	found := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case int:
			if strings.HasSuffix(strings.ToLower(path), "port") && v != 0 {
				found++
				if _, ok := planned[v]; !ok || v >= 32768 {
					t.Errorf("%s: port %d is not one the cluster planned below 32768", path, v)
				}
			}
		case string:
			if _, p, err := net.SplitHostPort(v); err == nil {
				n, _ := strconv.Atoi(p)
				found++
				if _, ok := planned[n]; !ok || n >= 32768 {
					t.Errorf("%s: %s is not a port the cluster planned below 32768", path, v)
				}
			}
		}
	}
	walk("", doc)
	if found < 12 { // 8 service ports, frontend HTTP, 2 datastores, metrics, cluster addresses
		t.Errorf("found only %d ports in the rendered template:\n%s", found, out.String())
	}

	// A base that pushes a port past the line is refused.
	high := devenv.PlanClusterPorts(32767-25, 2)
	if err := high.Check(false); err == nil || !strings.Contains(err.Error(), "smallint") {
		t.Errorf("base %d: got %v, want a refusal naming the smallint", 32767-25, err)
	}
}
