package simulators

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"
)

type simEnrolment struct {
	ID          string    `json:"id"`
	CaseID      string    `json:"case_id"`
	CourseCode  string    `json:"course_code"`
	Status      string    `json:"status"`
	Grade       string    `json:"grade,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	callbackURL string
	pnr         string
}

type educationState struct {
	seq        int
	enrolments map[string]*simEnrolment
	order      []string
}

func (e *educationState) init() { e.enrolments = map[string]*simEnrolment{} }

// CallbackRecord is one delivery attempt of an education completion callback.
type CallbackRecord struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	EnrolmentID string    `json:"enrolment_id"`
	Status      string    `json:"status"`
	Copy        int       `json:"copy"` // 2 for a duplicate delivery
	Attempt     int       `json:"attempt"`
	HTTPStatus  int       `json:"http_status,omitempty"`
	Error       string    `json:"error,omitempty"`
}

var pnrRe = regexp.MustCompile(`^(\d{2})?\d{6}[-+]?\d{4}$`)

func (s *Sim) searchCourses(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	muni, form, sun := q.Get("municipality"), strings.ToLower(q.Get("form")), q.Get("sun")
	text := strings.ToLower(q.Get("q"))
	out := []simCourse{}
	for _, c := range s.data.courses {
		if muni != "" && c.Municipality != muni {
			continue
		}
		if form != "" && c.Form != form {
			continue
		}
		if sun != "" && !strings.HasPrefix(c.SUN, sun) {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(c.Title+" "+c.Provider+" "+c.Code), text) {
			continue
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "courses": out})
}

// course finds an occasion by its own code ("1480-SFIC-01") or, as
// programme definitions name courses, by the course code alone ("SFIC"),
// taking the first occasion.
func (s *Sim) course(code string) *simCourse {
	for i := range s.data.courses {
		if s.data.courses[i].Code == code {
			return &s.data.courses[i]
		}
	}
	for i := range s.data.courses {
		if parts := strings.Split(s.data.courses[i].Code, "-"); len(parts) == 3 && parts[1] == code {
			return &s.data.courses[i]
		}
	}
	return nil
}

func (s *Sim) enrol(w http.ResponseWriter, r *http.Request) {
	s.sideEffect(w, r, "education", func(body []byte) effect {
		var in struct {
			CaseID     string `json:"case_id"`
			CourseCode string `json:"course_code"`
			Person     struct {
				PersonalNumber string `json:"personal_number"`
			} `json:"person"`
			CallbackURL string `json:"callback_url"`
		}
		if err := decode(body, &in); err != nil {
			return fail(http.StatusBadRequest, "malformed JSON")
		}
		if in.CaseID == "" || in.CourseCode == "" {
			return fail(http.StatusBadRequest, "case_id and course_code are required")
		}
		if !pnrRe.MatchString(in.Person.PersonalNumber) {
			return fail(http.StatusUnprocessableEntity, "person.personal_number is missing or malformed")
		}
		if in.CallbackURL != "" {
			u, err := url.Parse(in.CallbackURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fail(http.StatusUnprocessableEntity, "callback_url must be an absolute http(s) URL")
			}
		}
		c := s.course(in.CourseCode)
		if c == nil {
			return fail(http.StatusUnprocessableEntity, "unknown course "+in.CourseCode)
		}
		active, dup := 0, false
		for _, e := range s.edu.enrolments {
			if e.CourseCode == c.Code && e.Status == "active" {
				active++
				if e.CaseID == in.CaseID {
					dup = true
				}
			}
		}
		if active >= c.Seats {
			return fail(http.StatusConflict, "course "+c.Code+" is full")
		}
		s.edu.seq++
		e := &simEnrolment{
			ID: fmt.Sprintf("enr-%06d", s.edu.seq), CaseID: in.CaseID, CourseCode: c.Code, Status: "active",
			CreatedAt: time.Now().UTC(), callbackURL: in.CallbackURL, pnr: in.Person.PersonalNumber,
		}
		s.edu.enrolments[e.ID] = e
		s.edu.order = append(s.edu.order, e.ID)
		s.touch(kindEnrolment, e.ID, s.edu.seq, storedEnrolment{simEnrolment: *e, CallbackURL: e.callbackURL, PNR: e.pnr})
		return effect{status: http.StatusCreated, body: e, created: "enrolment/" + e.ID, duplicate: dup}
	})
}

func (s *Sim) enrolmentStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	e, ok := s.edu.enrolments[r.PathValue("id")]
	var cp simEnrolment
	if ok {
		cp = *e
	}
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusNotFound, "no such enrolment")
		return
	}
	writeJSON(w, http.StatusOK, cp)
}

func (s *Sim) withdraw(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.sideEffect(w, r, "education", func(body []byte) effect {
		e, ok := s.edu.enrolments[id]
		if !ok {
			return fail(http.StatusNotFound, "no such enrolment")
		}
		switch e.Status {
		case "withdrawn":
			return effect{status: http.StatusOK, body: e}
		case "active":
			e.Status = "withdrawn"
			e.EndedAt = time.Now().UTC()
			s.touch(kindEnrolment, e.ID, 0, storedEnrolment{simEnrolment: *e, CallbackURL: e.callbackURL, PNR: e.pnr})
			return effect{status: http.StatusOK, body: e, created: "enrolment/" + e.ID + "/withdrawn"}
		default:
			return fail(http.StatusConflict, "enrolment already ended: "+e.Status)
		}
	})
}

// Enrolments lists the enrolments (no personal data).
func (s *Sim) Enrolments() []simEnrolment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]simEnrolment, 0, len(s.edu.order))
	for _, id := range s.edu.order {
		out = append(out, *s.edu.enrolments[id])
	}
	return out
}

func (s *Sim) listEnrolments(w http.ResponseWriter, r *http.Request) {
	caseID := r.URL.Query().Get("case_id")
	out := []simEnrolment{}
	for _, e := range s.Enrolments() {
		if caseID == "" || e.CaseID == caseID {
			out = append(out, e)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "enrolments": out})
}

// completeEnrolment ends an enrolment (tests and demos) and delivers the
// completion callback, twice under the duplicate-callback fault.
func (s *Sim) completeEnrolment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status string `json:"status"`
		Grade  string `json:"grade"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	switch in.Status {
	case "completed", "failed", "dropped_out":
	default:
		writeErr(w, http.StatusBadRequest, "status must be completed, failed or dropped_out")
		return
	}
	if in.Status == "completed" && in.Grade == "" {
		in.Grade = "C"
	}
	if in.Status == "failed" && in.Grade == "" {
		in.Grade = "F"
	}
	s.mu.Lock()
	e, ok := s.edu.enrolments[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "no such enrolment")
		return
	}
	if e.Status != "active" {
		s.mu.Unlock()
		writeErr(w, http.StatusConflict, "enrolment is not active: "+e.Status)
		return
	}
	e.Status, e.Grade, e.EndedAt = in.Status, in.Grade, time.Now().UTC()
	cp := *e
	s.touch(kindEnrolment, e.ID, 0, storedEnrolment{simEnrolment: cp, CallbackURL: e.callbackURL, PNR: e.pnr})
	if err := s.commitLocked(nil); err != nil {
		s.mu.Unlock()
		writeErr(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.mu.Unlock()
	copies := 1
	if fs := s.spec("education"); fs != nil && s.roll(fs.DuplicateCallbackRate) {
		copies = 2
	}
	if cp.callbackURL != "" {
		s.deliverCallbacks(cp, copies)
	}
	writeJSON(w, http.StatusOK, map[string]any{"enrolment": cp, "callback": cp.callbackURL != "", "copies": copies})
}

func (s *Sim) deliverCallbacks(e simEnrolment, copies int) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		body, _ := json.Marshal(map[string]string{"enrolment_id": e.ID, "status": e.Status, "grade": e.Grade})
		for c := 1; c <= copies; c++ {
			for attempt := 1; attempt <= 6; attempt++ {
				status, err := s.postCallback(e.callbackURL, e.ID+"/"+e.Status, body)
				rec := CallbackRecord{At: time.Now().UTC(), EnrolmentID: e.ID, Status: e.Status, Copy: c, Attempt: attempt, HTTPStatus: status}
				if err != nil {
					rec.Error = err.Error()
				}
				s.mu.Lock()
				s.cbSeq++
				rec.Seq = s.cbSeq
				s.cbs = append(s.cbs, rec)
				s.mu.Unlock()
				if err == nil && status < 300 {
					break
				}
				if err == nil && status >= 400 && status < 500 && status != 408 && status != 429 {
					s.log.Warn("completion callback refused", zap.String("enrolment", e.ID), zap.Int("status", status))
					break
				}
				select {
				case <-time.After(time.Duration(250<<(attempt-1)) * time.Millisecond):
				case <-s.ctx.Done():
					return
				}
			}
		}
	}()
}

func (s *Sim) postCallback(u, key string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "enrolment/"+key)
	resp, err := s.cbHTTP.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Callbacks lists the callback delivery attempts.
func (s *Sim) Callbacks() []CallbackRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackRecord{}, s.cbs...)
}

func (s *Sim) adminCallbacks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"callbacks": s.Callbacks()})
}
