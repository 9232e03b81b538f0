package extract

import (
	"embed"
	"encoding/json"
	"html/template"
	"io"

	"github.com/pathways-se/pathways/lang"
)

//go:embed templates/extract.html
var templates embed.FS

// pages holds the printable extract once per language.
var pages = map[string]*template.Template{}

func init() {
	for _, tag := range lang.Supported {
		l := lang.New(tag)
		pages[tag] = template.Must(template.New("extract.html").Funcs(lang.Funcs(l)).Funcs(template.FuncMap{
			"date": l.Time, // Europe/Stockholm
			"json": func(v any) string {
				if v == nil {
					return ""
				}
				b, _ := json.Marshal(v)
				return string(b)
			},
			"raw": func(b json.RawMessage) string { return string(b) },
		}).ParseFS(templates, "templates/extract.html"))
	}
}

// PageOptions let the console add its rectification form (hidden in print).
type PageOptions struct {
	Nonce         string // CSP nonce of the inline style
	CSRF          string // set: show the rectification form
	RectifyAction string
	Flash         string
	Lang          *lang.Localizer // the page's language; nil is Swedish
}

// WriteHTML writes the extract as a printable, self-contained HTML page.
func WriteHTML(w io.Writer, x *Extract, o PageOptions) error {
	tag := lang.Swedish
	if o.Lang != nil {
		tag = o.Lang.Tag()
	}
	return pages[tag].Execute(w, struct {
		X *Extract
		O PageOptions
	}{x, o})
}
