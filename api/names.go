package api

import (
	"context"
	"regexp"
	"time"

	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// names lets a page show centres, programmes and steps by name; a code
// nothing names is shown as itself.
type names struct {
	l          *lang.Localizer
	centres    map[string]string
	towns      map[string]string // municipality code → name
	programmes func(string) (pathway.Programme, bool)
}

// Centre is a centre's name.
func (v view) Centre(id string) string {
	if n, ok := v.names.centres[id]; ok && n != "" {
		return n
	}
	return id
}

// Programme is a programme's title in the page's language.
func (v view) Programme(name string) string {
	if v.names.l != nil && lang.Has(v.names.l.Tag(), "code.programme."+name) {
		return v.names.l.T("code.programme." + name)
	}
	if v.names.programmes != nil {
		if p, ok := v.names.programmes(name); ok && p.Title != "" {
			return p.Title
		}
	}
	return name
}

// planned strips the plan revision a running step's ID carries (r2-sfi).
var planned = regexp.MustCompile(`^r\d+-`)

// Step is a programme step's title in the page's language; id may carry
// its plan revision.
func (v view) Step(programme, id string) string {
	if id == "" {
		return ""
	}
	base := planned.ReplaceAllString(id, "")
	if v.names.l != nil && lang.Has(v.names.l.Tag(), "code.step."+programme+"."+base) {
		return v.names.l.T("code.step." + programme + "." + base)
	}
	if v.names.programmes != nil {
		if p, ok := v.names.programmes(programme); ok {
			for _, s := range p.Steps {
				if s.ID == base && s.Title != "" {
					return s.Title
				}
			}
		}
	}
	return id
}

// daysLeft is the programme days left on a row, counted now rather than
// at the case's last change. A paused or closed case, or one on compressed
// demo time (its limit nearer than its stored days), keeps the stored count.
func daysLeft(r store.PathwayRow) *int {
	d := r.DaysLeft
	if d == nil || r.TimeLimitAt == nil || r.Paused || r.Status == "closed" {
		return d
	}
	day := 24 * time.Hour
	if r.TimeLimitAt.Sub(r.StartedAt) < time.Duration(*d-1)*day {
		return d
	}
	left := time.Until(*r.TimeLimitAt)
	n := 0
	if left > 0 {
		n = int((left + day - 1) / day)
	}
	return &n
}

// centreNames maps centre IDs and municipality codes to names for a page;
// a failed read shows the codes.
func (s *Server) centreNames(ctx context.Context) (centres, towns map[string]string) {
	cs, err := store.ListCentres(ctx, s.Pool)
	s.partial(ctx, "centre names", err)
	centres, towns = make(map[string]string, len(cs)), map[string]string{}
	for _, c := range cs {
		centres[c.ID] = c.Name
		towns[c.MunicipalityCode] = c.Municipality
	}
	return centres, towns
}

// Municipality is a municipality's name by its code.
func (v view) Municipality(code string) string {
	if n := v.names.towns[code]; n != "" {
		return n
	}
	return code
}

// problemText is a refusal as a page shows it: in the page's language,
// naming the field it is about.
func problemText(l *lang.Localizer, p *Problem) string {
	msg := l.Message(p.Message)
	if p.Field != "" && msg == p.Message && l.Tag() != lang.English {
		return l.Code("field", p.Field) + ": " + msg
	}
	if p.Field != "" && l.Tag() == lang.English {
		return p.Field + ": " + msg
	}
	return msg
}
