package config

import (
	"net/url"
	"reflect"
	"sort"
)

const redacted = "[redacted]"

// Redacted returns the effective settings as a flat key→value map with every
// secret replaced, and the password stripped from the database URL.
func (c *Config) Redacted() map[string]any {
	m := map[string]any{}
	flat := map[string]any{}
	flatten("", reflect.ValueOf(*c), flat)
	for _, k := range keys {
		val := flat[k.name]
		if k.secret {
			if k.name == "database.url" {
				val = redactURL(c.Database.URL)
			} else if s, _ := val.(string); s != "" {
				val = redacted
			}
		}
		m[k.name] = val
	}
	return m
}

// SortedKeys lists every config key in order, for printing.
func SortedKeys() []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.name)
	}
	sort.Strings(out)
	return out
}

func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	// Anything but a postgres:// URL (a keyword/value DSN such as
	// "host=db password=…" parses as a path) is hidden whole.
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return redacted
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	// libpq also takes the password as a query parameter.
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// flatten walks the struct by its mapstructure tags, so keys match the file's.
func flatten(prefix string, v reflect.Value, out map[string]any) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("mapstructure")
		if prefix != "" {
			name = prefix + "." + name
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type().PkgPath() == t.PkgPath() {
			flatten(name, f, out)
			continue
		}
		out[name] = f.Interface()
	}
}

// KeyInfo documents one setting: its key, environment variable, flag (empty
// for secrets, which come from the environment only), default and meaning.
type KeyInfo struct {
	Name    string
	Env     []string
	Flag    string
	Default any
	Secret  bool
	Usage   string
}

// Describe lists every setting, sorted by key, for `pathways config keys`.
func Describe() []KeyInfo {
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		info := KeyInfo{Name: k.name, Env: append([]string{EnvName(k.name)}, k.env...), Default: k.def, Secret: k.secret, Usage: k.usage}
		if !k.secret {
			info.Flag = "--" + FlagName(k.name)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
