package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pathways-se/pathways/internal/jsonbody"
)

// maxBody bounds a JSON request body; a larger one is refused with 413.
const maxBody = 1 << 20

// decodeJSON reads the request body into v, a pointer to the endpoint's
// request type, and answers the problem itself when the body is refused
// (jsonbody.Decode says when: 413 over maxBody, 400 naming the field in the
// API's words). Every JSON endpoint uses it.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := jsonbody.Decode(http.MaxBytesReader(w, r.Body, maxBody), v); err != nil {
		writeProblem(w, err.Status, Problem{Code: err.Code, Field: err.Field, Message: err.Message})
		return false
	}
	return true
}

// queryInt reads an optional whole-number query parameter from 0 to max;
// def when it is absent. A bad value is a 400 naming the parameter.
func queryInt(q url.Values, name string, def, max int) (int, *Problem) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, &Problem{Code: "invalid", Field: name, Message: fmt.Sprintf("%s must be a whole number from 0 to %d", name, max)}
	}
	return n, nil
}

// oneOf refuses a filter value that is not one of allowed ("" is no
// filter): an unknown value would match nothing and look like an empty list.
func oneOf(name, v string, allowed ...string) *Problem {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return &Problem{Code: "invalid", Field: name, Message: fmt.Sprintf("%s must be one of %s", name, strings.Join(allowed, ", "))}
}
