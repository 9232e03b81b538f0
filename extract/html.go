package extract

import (
	"embed"
	"encoding/json"
	"html/template"
	"io"
	"time"
)

//go:embed templates/extract.html
var templates embed.FS

var page = template.Must(template.New("extract.html").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"json": func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	},
	"raw": func(b json.RawMessage) string { return string(b) },
}).ParseFS(templates, "templates/extract.html"))

// PageOptions let the console add its rectification form (hidden in print).
type PageOptions struct {
	Nonce         string // CSP nonce of the inline style
	CSRF          string // set: show the rectification form
	RectifyAction string
	Flash         string
}

// WriteHTML writes the extract as a printable, self-contained HTML page.
func WriteHTML(w io.Writer, x *Extract, o PageOptions) error {
	return page.Execute(w, struct {
		X *Extract
		O PageOptions
	}{x, o})
}
