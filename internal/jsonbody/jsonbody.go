// Package jsonbody decodes JSON request bodies strictly and explains a
// refusal in the API's words: the field, and the JSON type it must be. It
// has no dependencies beyond the standard library, so its fuzz target runs
// fast (a fuzz worker's cost grows with the size of the test binary).
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Error is a refused body: the HTTP status (400 or 413), a code, the field
// when one is to blame, and a message for the client.
type Error struct {
	Status  int
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Decode reads one JSON value from body into v, a pointer to a request
// type, and returns nil or the refusal. body carries its own size limit
// (http.MaxBytesReader): beyond it the refusal is 413. Otherwise it is 400
// when the body is empty, not JSON, not an object where v is a struct, has a
// field v does not know or a value of the wrong type (naming the field and
// the JSON type wanted, never a Go type), a NUL in any text, or anything
// after the value.
func Decode(body io.Reader, v any) *Error {
	data, err := io.ReadAll(body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("the body is larger than %s; send at most that", sizeText(tooLarge.Limit))}
	}
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "the body could not be read"}
	}
	bad := func(field, format string, args ...any) *Error {
		return &Error{Status: http.StatusBadRequest, Code: "bad_request", Field: field, Message: fmt.Sprintf(format, args...)}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return bad("", "the body is empty; send a JSON object")
	}
	if t := reflect.TypeOf(v); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && trimmed[0] != '{' {
		return bad("", "the body must be a JSON object, {…}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return bad("", "the body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return bad("", "the body is not valid JSON: it ends in the middle of a value")
		case errors.As(err, &typ):
			field := jsonPath(reflect.TypeOf(v), typ.Field)
			if field == "" {
				return bad("", "the body must be %s", jsonKind(typ.Type))
			}
			return bad(field, "%s must be %s, not %s", field, jsonKind(typ.Type), valueKind(typ.Value))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			return bad(name, "unknown field %q; this endpoint takes %s", name, strings.Join(jsonFields(reflect.TypeOf(v)), ", "))
		default:
			// A value's own decoder refused it (a date-time, say): find
			// which top-level field, and say what it must look like.
			field, t := blame(data, reflect.TypeOf(v))
			if field == "" {
				return bad("", "the body does not fit this endpoint")
			}
			return bad(field, "%s must be %s", field, jsonKind(t))
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("", "the body has more after its JSON object; send exactly one object")
	}
	if field := nulField(reflect.ValueOf(v), ""); field != "" {
		return bad(field, "%s contains a NUL character (\\u0000); remove it", field)
	}
	return nil
}

// jsonPath drops from encoding/json's field path the Go names of embedded
// structs ("Referral.given_name" is given_name to a client).
func jsonPath(t reflect.Type, path string) string {
	if path == "" {
		return ""
	}
	var out []string
	for _, part := range strings.Split(path, ".") {
		st := structOf(t)
		if st == nil {
			out = append(out, part)
			t = nil
			continue
		}
		if f, ok := st.FieldByName(part); ok && f.Anonymous && f.Tag.Get("json") == "" {
			t = f.Type
			continue
		}
		out = append(out, part)
		ft, ok := jsonFieldTypes(st)[part]
		if !ok {
			t = nil
			continue
		}
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array || ft.Kind() == reflect.Map {
			ft = ft.Elem()
		}
		t = ft
	}
	return strings.Join(out, ".")
}

// jsonKind describes what a Go type reads from JSON, in the API's words.
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeOf(time.Time{}) {
		return "a date-time, e.g. 2026-03-01T09:00:00Z"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a JSON value"
}

// valueKind is the JSON kind encoding/json saw ("number -1" says "number").
func valueKind(v string) string {
	v, _, _ = strings.Cut(v, " ")
	switch v {
	case "array", "object":
		return "an " + v
	case "bool":
		return "true or false"
	case "":
		return "that"
	}
	return "a " + v
}

// structOf is the struct type behind pointers, or nil.
func structOf(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// jsonFieldTypes maps a struct's JSON field names (embedded structs
// flattened) to their types.
func jsonFieldTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	t = structOf(t)
	if t == nil {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" && structOf(f.Type) != nil {
			for k, v := range jsonFieldTypes(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func jsonFields(t reflect.Type) []string {
	var names []string
	for k := range jsonFieldTypes(t) {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// blame finds the first top-level field of data that does not decode into
// its field of t.
func blame(data []byte, t reflect.Type) (string, reflect.Type) {
	var raw map[string]json.RawMessage
	if json.Unmarshal(data, &raw) != nil {
		return "", nil
	}
	fields := jsonFieldTypes(t)
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, ok := fields[k]
		if !ok {
			for name, typ := range fields { // encoding/json matches names case-insensitively
				if strings.EqualFold(name, k) {
					ft, ok = typ, true
				}
			}
		}
		if ok && json.Unmarshal(raw[k], reflect.New(ft).Interface()) != nil {
			return k, ft
		}
	}
	return "", nil
}

// nulField is the JSON path of the first string holding a NUL, or "":
// PostgreSQL stores no NUL in text or jsonb, so one would fail the write
// (or a projection, again and again) long after the request.
func nulField(v reflect.Value, path string) string {
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), path)
		}
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			if path == "" {
				return "body"
			}
			return path
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous { // encoding/json fills an embedded struct's fields
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if !f.Anonymous || name != "" {
				if name == "" {
					name = f.Name
				}
				p = join(name)
			}
			if got := nulField(v.Field(i), p); got != "" {
				return got
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if got := nulField(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); got != "" {
				return got
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			if k.Kind() == reflect.String && strings.IndexByte(k.String(), 0) >= 0 {
				return join("(a key)")
			}
			if got := nulField(v.MapIndex(k), join(fmt.Sprint(k))); got != "" {
				return got
			}
		}
	}
	return ""
}

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
