package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/pathways-se/pathways/config"
)

func TestPrefixWriterWholeLines(t *testing.T) {
	var out bytes.Buffer
	a, b := newPrefixWriter(&out, "worker"), newPrefixWriter(&out, "api")
	a.Write([]byte("first ha"))
	b.Write([]byte("api line\n"))
	a.Write([]byte("lf\nsecond\nthi"))
	a.Write([]byte("rd\n"))
	want := "api        | api line\n" +
		"worker     | first half\n" +
		"worker     | second\n" +
		"worker     | third\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestHTTPBase(t *testing.T) {
	for in, want := range map[string]string{
		":8080":          "http://localhost:8080",
		"0.0.0.0:8080":   "http://localhost:8080",
		"127.0.0.1:8090": "http://127.0.0.1:8090",
		"[::]:9000":      "http://localhost:9000",
	} {
		if got := httpBase(in); got != want {
			t.Errorf("httpBase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChildEnvCarriesFlagsAndServers(t *testing.T) {
	fs := pflag.NewFlagSet("dev", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	if err := fs.Parse([]string{"--http-addr", "127.0.0.1:18080", "--dev-temporal-ui-port", "18233"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(fs)
	if err != nil {
		t.Fatal(err)
	}
	d := &devRun{cfg: cfg, flags: fs}
	env := strings.Join(d.childEnv("postgres://pathways_app@127.0.0.1:5433/pathways", "postgres://pathways@127.0.0.1:5433/pathways", "127.0.0.1:7233"), "\n") + "\n"
	for _, want := range []string{
		"PATHWAYS_HTTP_ADDR=127.0.0.1:18080\n",
		"PATHWAYS_DATABASE_URL=postgres://pathways_app@127.0.0.1:5433/pathways\n",
		"PATHWAYS_DATABASE_OWNER_URL=postgres://pathways@127.0.0.1:5433/pathways\n",
		"PATHWAYS_TEMPORAL_ADDRESS=127.0.0.1:7233\n",
		"PATHWAYS_TEMPORAL_UI_URL=http://localhost:18233\n",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("child env lacks %q", want)
		}
	}
}

// The dev server's UI reaches the codec server on localhost, like itself,
// so the console's session cookie is same-site.
func TestCodecEndpoint(t *testing.T) {
	for _, c := range []struct{ addr, public, want string }{
		{":8080", "http://localhost:8080", "http://localhost:8080/api/v1/codec"},
		{"127.0.0.1:18100", "http://localhost:8080", "http://localhost:18100/api/v1/codec"},
		{":8080", "https://pathways.example.se/", "https://pathways.example.se/api/v1/codec"},
	} {
		d := &devRun{cfg: &config.Config{HTTP: config.HTTPConfig{Addr: c.addr, PublicURL: c.public}}}
		if got := d.codecEndpoint(); got != c.want {
			t.Errorf("addr %s, public %s: %s, want %s", c.addr, c.public, got, c.want)
		}
	}
}
