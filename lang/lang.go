// Package lang is the console's language: Swedish first, English by choice.
//
// Messages live in per-area catalogue files, messages/<area>.sv.yaml and
// messages/<area>.en.yaml, read by go-i18n (plural forms by CLDR rules).
// A page asks for a key; numbers, shares and times are formatted for the
// language here so every page writes them the same way.
package lang

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Stockholm on machines without a zone database

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// The languages the console speaks; Swedish is the default.
const (
	Swedish = "sv"
	English = "en"
)

// Supported lists the languages in the order offered to staff.
var Supported = []string{Swedish, English}

//go:embed messages/*.yaml
var files embed.FS

var (
	bundle = i18n.NewBundle(language.Swedish)
	keys   = map[string]map[string]bool{} // language → keys its catalogues define
	zone   *time.Location
)

func init() {
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	names, err := fs.Glob(files, "messages/*.yaml")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			panic(err)
		}
		mf, err := bundle.ParseMessageFileBytes(b, name)
		if err != nil {
			panic(fmt.Sprintf("lang: %s: %v", name, err))
		}
		tag := mf.Tag.String()
		if keys[tag] == nil {
			keys[tag] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			if keys[tag][m.ID] {
				panic(fmt.Sprintf("lang: %s defines %q again", name, m.ID))
			}
			keys[tag][m.ID] = true
		}
	}
	if zone, err = time.LoadLocation("Europe/Stockholm"); err != nil {
		panic(err)
	}
}

// Zone is Europe/Stockholm: every time staff see is shown in it.
func Zone() *time.Location { return zone }

// Has reports whether language tag's catalogues define key.
func Has(tag, key string) bool { return keys[tag][key] }

// Keys lists the keys language tag's catalogues define, sorted.
func Keys(tag string) []string {
	out := make([]string, 0, len(keys[tag]))
	for k := range keys[tag] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Localizer speaks one language.
type Localizer struct {
	tag string
	loc *i18n.Localizer
}

var localizers = map[string]*Localizer{}

func init() {
	for _, tag := range Supported {
		localizers[tag] = &Localizer{tag: tag, loc: i18n.NewLocalizer(bundle, tag)}
	}
}

// New returns the localizer for tag, Swedish for anything it does not speak.
func New(tag string) *Localizer {
	if l, ok := localizers[tag]; ok {
		return l
	}
	return localizers[Swedish]
}

// Tag is the language's code, for <html lang>.
func (l *Localizer) Tag() string { return l.tag }

// T returns the message for key. Arguments come in name, value pairs; a
// "Count" argument picks the plural form. A key no catalogue has comes back
// as itself, so a missing translation is visible (and a test fails on it).
func (l *Localizer) T(key string, args ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: key}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			name := fmt.Sprint(args[i])
			data[name] = args[i+1]
			if name == "Count" {
				cfg.PluralCount = args[i+1]
				if n, ok := toInt(args[i+1]); ok {
					data["CountText"] = l.Number(n)
				}
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.loc.Localize(cfg)
	if err != nil || s == "" {
		return key
	}
	return s
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	}
	return 0, false
}

// Number writes n with the language's digit grouping: 1 240 in Swedish
// (a no-break space), 1,240 in English.
func (l *Localizer) Number(n int) string {
	sep := ","
	if l.tag == Swedish {
		sep = "\u00a0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// Percent writes a share given in percent (60 for 60 %), rounded to whole
// percent or to decimals places: "60 %" in Swedish, "60%" in English.
func (l *Localizer) Percent(p float64, decimals int) string {
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return "–"
	}
	s := fmt.Sprintf("%.*f", decimals, p)
	if l.tag == Swedish {
		return strings.Replace(s, ".", ",", 1) + "\u00a0%"
	}
	return s + "%"
}

// Time writes t in Europe/Stockholm: 2026-12-01 07:00.
func (l *Localizer) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(zone).Format("2006-01-02 15:04")
}

// Date writes t's day in Europe/Stockholm: 2026-12-01.
func (l *Localizer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(zone).Format("2006-01-02")
}

// Pick chooses the language: the staff member's own setting when it names
// one the console speaks, else the browser's Accept-Language, else Swedish.
func Pick(setting, acceptLanguage string) string {
	if _, ok := localizers[setting]; ok {
		return setting
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err == nil {
		for _, t := range tags {
			base, _ := t.Base()
			if _, ok := localizers[base.String()]; ok {
				return base.String()
			}
		}
	}
	return Swedish
}

type ctxKey struct{}

// With stores l in ctx; the console's middleware does it once per request.
func With(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns ctx's localizer, Swedish when none was stored.
func From(ctx context.Context) *Localizer {
	if l, ok := ctx.Value(ctxKey{}).(*Localizer); ok {
		return l
	}
	return localizers[Swedish]
}

// For returns the request's localizer: the one the middleware stored, else
// the browser's choice.
func For(r *http.Request) *Localizer {
	if l, ok := r.Context().Value(ctxKey{}).(*Localizer); ok {
		return l
	}
	return New(Pick("", r.Header.Get("Accept-Language")))
}

// Funcs are the template functions a page in l's language uses:
// t (a message), num, pct, when (date and time), day (date).
func Funcs(l *Localizer) map[string]any {
	return map[string]any{
		"t":     l.T,
		"num":   l.Number,
		"pct":   l.Percent,
		"when":  l.Time,
		"day":   l.Date,
		"lang":  l.Tag,
		"code":  l.Code,
		"event": l.Event,
	}
}
