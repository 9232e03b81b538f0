package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The OpenAPI 3 document is built from this table, so every endpoint the
// API mounts is described in one place next to its handler names.
type apiOp struct {
	method, path, summary, body, response string
	params                                []string // query parameters
	errors                                []int
}

var apiOps = []apiOp{
	{method: "get", path: "/me", summary: "The signed-in staff member, their roles and permitted actions", response: "Me"},
	{method: "get", path: "/centres", summary: "All centres", response: "CentreList"},
	{method: "get", path: "/staff", summary: "Staff of the caller's centre (all centres for administrators and unit managers)", params: []string{"centre"}, response: "StaffList"},
	{method: "get", path: "/pathways", summary: "The caseload: a filtered, sorted page of visible pathways; q finds the person by name (start of a name word), identity number (any accepted form) or case ID, audited by kind",
		params: []string{"q", "centre", "phase", "track", "status", "assignee", "overdue", "stalled", "sort", "limit", "offset", "after"}, response: "PathwayPage", errors: []int{400, 403}},
	{method: "post", path: "/pathways", summary: "Start a pathway from a referral (202 referral_received: the person already has a pathway the caller may not see; it was passed on to that centre)", body: "StartRequest", response: "Started", errors: []int{400, 403, 409, 422, 503}},
	{method: "get", path: "/pathways/{case}", summary: "One pathway: the read model and the workflow's live status", response: "PathwayView", errors: []int{403, 404}},
	{method: "get", path: "/pathways/{case}/timeline", summary: "The pathway's timeline, oldest first", response: "Timeline", errors: []int{403, 404}},
	{method: "get", path: "/pathways/{case}/participant", summary: "The participant's personal data (every read is audited)", response: "Participant", errors: []int{403, 404}},
	{method: "get", path: "/pathways/{case}/tasks", summary: "The pathway's tasks", params: []string{"status"}, response: "TaskPage", errors: []int{403, 404}},
	{method: "get", path: "/pathways/{case}/matches", summary: "Employers' open recruitment needs and JobSearch vacancies for the target occupation (?ssyk=, default the plan's) in the centre's municipality", params: []string{"ssyk"}, response: "Matches", errors: []int{400, 403, 404, 422}},
	{method: "post", path: "/pathways/{case}/first-contact", summary: "Record the first contact (Update record-first-contact)", body: "FirstContact", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/mapping", summary: "Record the mapping (Update record-mapping)", body: "Mapping", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/plan", summary: "Approve or revise the action plan (Update approve-plan). The whole plan is checked first: step types the programme allows, unique step IDs, days, courses in the participant's municipality before the time limit, an open need there; 422 invalid_plan names each problem on its field (steps[i].course, recruitment_need_id). No recruitment_need_id keeps the linked need; \"none\" unlinks it", body: "Plan", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/outcome", summary: "Record where the participant went (Update record-outcome)", body: "Outcome", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/follow-up", summary: "Answer a follow-up (Update answer-follow-up)", body: "FollowUp", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/pause", summary: "Pause the pathway (Update pause)", body: "Pause", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/resume", summary: "Resume a paused pathway (Update resume)", body: "Empty", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/transfer", summary: "Transfer to another centre (Update transfer)", body: "Transfer", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/close", summary: "Close with a coded reason (Update close)", body: "Close", response: "ActionResult", errors: actionErrors},
	{method: "post", path: "/pathways/{case}/complete-task", summary: "Mark a human task done (Update complete-task)", body: "CompleteTask", response: "ActionResult", errors: actionErrors},
	{method: "get", path: "/pathways/{case}/actions/{id}", summary: "What became of an action answered 202: completed (with the status), refused, or still pending (202 again); 404 when it was never recorded (send it again with the same Idempotency-Key)", response: "ActionResult", errors: []int{403, 404}},
	{method: "get", path: "/tasks", summary: "Task inbox: mine, my role's, or all visible", params: []string{"scope", "centre", "role", "assignee", "status", "limit", "offset", "after"}, response: "TaskPage", errors: []int{400, 403}},
	{method: "get", path: "/employers", summary: "Employers and their count of open recruitment needs", response: "EmployerList"},
	{method: "get", path: "/recruitment-needs", summary: "Recruitment needs as the employer system holds them (default open; status=all for every one), each with the pathways tied to it that the caller may see and how far they have come",
		params: []string{"ssyk", "municipality", "employer", "centre", "status", "limit", "offset"}, response: "NeedList", errors: []int{400, 503}},
	{method: "post", path: "/recruitment-needs", summary: "Register a recruitment need in the employer system (job brokers, team leads, administrators; Idempotency-Key)", body: "NeedRequest", response: "Need", errors: []int{400, 403, 422, 503}},
	{method: "get", path: "/recruitment-needs/{need}", summary: "One recruitment need, any status, with the pathways tied to it", response: "Need", errors: []int{404, 503}},
	{method: "post", path: "/recruitment-needs/{need}/status", summary: "Mark a need filled or withdrawn, or open it again (its centre's brokers and team leads, administrators; Idempotency-Key)", body: "NeedStatus", response: "Need", errors: []int{400, 403, 404, 422, 503}},
	{method: "get", path: "/pathways/{case}/courses", summary: "Search the education system's course occasions in the participant's municipality by name or code (?q=SFIC, 1488-USK-01)", params: []string{"q", "limit", "offset"}, response: "CourseList", errors: []int{400, 403, 404, 503}},
	{method: "get", path: "/outcomes", summary: "The outcome report of a period (?period=2026, 2026-H1, 2026-Q3, 2026-05 or 2026-01-01..2026-03-31): the national indicator (share of those who ended) beside the share of all participants, by municipality, centre, programme, track, age band and gender, with counts, Wilson 95% intervals, cells under 5 suppressed, the comparison line and the flow; format=csv or xlsx downloads it", params: []string{"period", "centre", "format"}, response: "anyObject", errors: []int{400, 403}},
	{method: "get", path: "/outcomes/annual", summary: "The annual municipal labour-market statistics of ?year=: participants, ended, started work, started studies by gender and age band, with the indicator; format=csv or xlsx downloads it", params: []string{"year", "centre", "format"}, response: "anyObject", errors: []int{400, 403}},
	{method: "get", path: "/monitor", summary: "Equal-treatment monitor (unit managers, administrators): each centre, district, gender and age band against the rest; flagged when over the threshold and Holm-corrected p < 0.05", params: []string{"period"}, response: "anyObject", errors: []int{400, 403}},
	{method: "get", path: "/escalations", summary: "Escalated cases with their rule, reason, age and current ladder level", response: "EscalationList", errors: []int{403}},
	{method: "post", path: "/escalations", summary: "Escalate one case or many by filter (manual escalation): starts it as a workflow, 202 with its status_url (Idempotency-Key: a repeat reports on the first)", body: "EscalateRequest", response: "anyObject", errors: []int{400, 403, 422, 503}},
	{method: "get", path: "/escalations/manual/{id}", summary: "A manual escalation's progress, or its result once done", response: "anyObject", errors: []int{403, 404}},
	{method: "get", path: "/escalations/stats", summary: "Stalled cases over time by centre, from the daily sweeps", response: "anyObject", errors: []int{403}},
	{method: "post", path: "/escalations/sweeps", summary: "Sweep a centre for stalled cases now (its team lead; Idempotency-Key required): 202 with the sweep's status_url; the same service as `pathways schedule trigger --centre`", body: "CentreSweepRequest", response: "anyObject", errors: []int{400, 403, 503}},
	{method: "get", path: "/escalations/sweeps/{id}", summary: "A centre sweep's record and counts (finished_at once done)", response: "anyObject", errors: []int{403, 404}},
	{method: "put", path: "/pathways/{case}/assignee", summary: "Assign or reassign the case to an active staff member of its centre (team leads of the centre; protected cases included; audited)", body: "AssignRequest", response: "Assignment", errors: []int{400, 403, 404, 422, 503}},
	{method: "post", path: "/staff/{staff}/sign-out-everywhere", summary: "End every session of a staff member (administrators)", body: "Empty", response: "anyObject", errors: []int{403, 404}},
	{method: "get", path: "/audit", summary: "Audit log review (team leads, unit managers, administrators)", params: []string{"case", "staff", "limit"}, response: "AuditList", errors: []int{403, 404}},
	{method: "post", path: "/codec/decode", summary: "Temporal Web UI codec server: decrypt payloads of cases the caller may open (audited; CORS for temporal.ui_url)", body: "Payloads", response: "Payloads", errors: []int{400, 403}},
	{method: "post", path: "/codec/encode", summary: "Temporal Web UI codec server: encrypt payloads", body: "Payloads", response: "Payloads", errors: []int{400}},
}

var actionErrors = []int{400, 403, 404, 409, 422, 503}

var errorText = map[int]string{
	400: "Malformed request (code bad_request or invalid, with field)",
	401: "Not signed in (code unauthenticated)",
	403: "The role or centre does not allow this (code forbidden)",
	404: "No such pathway, or one the caller may not know of (code not_found)",
	409: "Duplicate active pathway, or the workflow has ended",
	422: "Refused: field errors, or the workflow validator's message (code invalid or refused)",
	503: "Nothing changed: no pathway worker is polling (code worker_unavailable), the workflow service does not answer (temporal_unavailable), or the pathway dropped the action unapplied each time it was sent (not_applied); try again",
}

func obj(props map[string]any, required ...string) map[string]any {
	m := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

var (
	str   = map[string]any{"type": "string"}
	num   = map[string]any{"type": "integer"}
	boo   = map[string]any{"type": "boolean"}
	date  = map[string]any{"type": "string", "format": "date"}
	ts    = map[string]any{"type": "string", "format": "date-time"}
	strs  = map[string]any{"type": "array", "items": str}
	anyOb = map[string]any{"type": "object", "additionalProperties": true}
)

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
func arr(name string) map[string]any { return map[string]any{"type": "array", "items": ref(name)} }
func items(name string) map[string]any {
	return obj(map[string]any{"items": arr(name), "total": num, "limit": num, "offset": num})
}

// keysetPage is a list page whose next is the cursor of the following page
// (pass it as after; deep pages cost what the first does).
func keysetPage(name string) map[string]any {
	page := items(name)
	page["properties"].(map[string]any)["next"] = str
	return page
}

var schemas = map[string]any{
	"Error": obj(map[string]any{"error": obj(map[string]any{"code": str, "message": str, "field": str,
		"fields": map[string]any{"type": "array", "items": obj(map[string]any{"field": str, "code": str, "message": str})}}, "code", "message")}),
	"Me":         obj(map[string]any{"staff": ref("Staff"), "all_centres": boo, "can": strs}),
	"Staff":      obj(map[string]any{"id": str, "name": str, "email": str, "centre_id": str, "roles": strs, "active": boo}),
	"StaffList":  obj(map[string]any{"items": arr("Staff")}),
	"Centre":     obj(map[string]any{"id": str, "name": str, "municipality": str, "municipality_code": str, "districts": strs, "min_age": num, "max_age": num}),
	"CentreList": obj(map[string]any{"items": arr("Centre")}),
	"Pathway": obj(map[string]any{"case_id": str, "participant_id": str, "centre_id": str, "workflow_id": str, "programme": str, "programme_version": num,
		"track": str, "activity_duty": boo, "status": str, "phase": str, "current_step": str, "referral_source": str, "referred_at": ts, "started_at": ts,
		"first_contact_due": ts, "mapping_due": ts, "time_limit_at": ts, "days_left": num, "paused": boo, "last_progress_at": ts, "closed_at": ts,
		"closure_reason": str, "outcome": anyOb, "assignee": str, "open_tasks": num}),
	"PathwayPage": keysetPage("Pathway"),
	"PathwayView": obj(map[string]any{"pathway": ref("Pathway"), "live": ref("Status"), "temporal_ui": str}),
	"Status": obj(map[string]any{"case_id": str, "centre_id": str, "programme": str, "phase": str, "current_step": str, "days_left": num, "paused": boo,
		"mapping_overdue": boo, "open_tasks": map[string]any{"type": "array", "items": anyOb}, "steps": map[string]any{"type": "array", "items": anyOb},
		"target_ssyk": str, "closure_reason": str, "deadlines": anyOb}),
	"StartRequest": obj(map[string]any{"personal_number": str, "given_name": str, "family_name": str, "email": str, "phone": str, "district": str,
		"centre_id": str, "programme": str, "source": map[string]any{"type": "string", "enum": []string{"social_services", "employment_service"}},
		"referred_at": ts, "consent": boo, "protected_identity": boo, "assignee": str, "consent_scope": strs},
		"personal_number", "given_name", "family_name", "district", "source", "consent"),
	"Started":  obj(map[string]any{"case_id": str, "workflow_id": str, "centre_id": str, "programme": str, "track": str, "pending": boo}),
	"Timeline": obj(map[string]any{"items": map[string]any{"type": "array", "items": obj(map[string]any{"seq": num, "at": ts, "kind": str, "summary": str, "actor": str, "data": anyOb})}}),
	"Participant": obj(map[string]any{"id": str, "personal_number": str, "given_name": str, "family_name": str, "email": str, "phone": str, "district": str,
		"birth_date": ts, "protected_identity": boo, "consents": map[string]any{"type": "array", "items": obj(map[string]any{"scope": strs, "registered_at": ts, "registered_by": str})}}),
	"Task":               obj(map[string]any{"id": num, "key": str, "case_id": str, "centre_id": str, "kind": str, "title": str, "role": str, "assignee": str, "due_at": ts, "status": str}),
	"TaskPage":           keysetPage("Task"),
	"Empty":              obj(map[string]any{}),
	"AssignRequest":      obj(map[string]any{"assignee": str}, "assignee"),
	"Assignment":         obj(map[string]any{"case_id": str, "from": str, "to": str, "changed": boo, "centre_id": str}),
	"CentreSweepRequest": obj(map[string]any{"centre_id": str}),
	"FirstContact":       obj(map[string]any{"channel": map[string]any{"type": "string", "enum": []string{"meeting", "phone", "video"}}}),
	"Mapping": obj(map[string]any{"abilities": strs, "education_level": str, "language": str, "work_history": str, "goals": str, "obstacles": strs},
		"abilities", "education_level", "language", "goals"),
	"StepSpec": obj(map[string]any{"id": str, "type": str, "title": str, "duration_days": num, "params": map[string]any{"type": "object", "additionalProperties": str}}),
	"Plan":     obj(map[string]any{"target_ssyk": str, "recruitment_need_id": str, "steps": arr("StepSpec")}, "target_ssyk"),
	"Outcome": obj(map[string]any{"kind": map[string]any{"type": "string", "enum": []string{"work", "subsidised_work", "studies"}}, "start_date": date,
		"employer": str, "ssyk": str,
		"employer_kind":   map[string]any{"type": "string", "enum": []string{"regular", "municipal_measure"}, "description": "work: the regular labour market, or the municipality's own labour-market job (does not count in the national indicator)"},
		"employment_form": map[string]any{"type": "string", "enum": []string{"unsubsidised", "subsidised"}},
		"subsidy":         map[string]any{"type": "string", "description": "the subsidy's name, required when subsidised"},
		"study_form":      map[string]any{"type": "string", "enum": []string{"komvux", "folkhogskola", "university", "other"}},
		"student_finance": map[string]any{"type": "boolean", "description": "studies: qualifies for student finance (CSN); required for studies"}}, "kind", "start_date"),
	"FollowUp":     obj(map[string]any{"day": num, "still_there": boo, "note": str}, "day", "still_there"),
	"Pause":        obj(map[string]any{"reason": map[string]any{"type": "string", "enum": []string{"sick", "parental_leave", "other"}}}, "reason"),
	"Transfer":     obj(map[string]any{"to_centre": str, "reason": str}, "to_centre"),
	"Close":        obj(map[string]any{"reason": map[string]any{"type": "string", "enum": []string{"work", "subsidised_work", "studies", "moved", "sick", "parental_leave", "declined", "other"}}, "note": str}, "reason"),
	"CompleteTask": obj(map[string]any{"task_key": str}, "task_key"),
	"ActionResult": obj(map[string]any{"case_id": str, "action": str, "action_id": str,
		"state": map[string]any{"type": "string", "enum": []string{"completed", "pending", "refused", "unknown"}}, "message": str, "status": ref("Status"), "result": anyOb}),
	"Employer":     obj(map[string]any{"id": str, "name": str, "org_number": str, "municipality_code": str, "contact_role": str, "open_needs": num}),
	"EmployerList": obj(map[string]any{"items": arr("Employer")}),
	"Need": obj(map[string]any{"id": str, "employer_id": str, "employer_name": str, "centre_id": str, "ssyk": str, "municipality": str, "title": str, "positions": num,
		"filled": num, "start_date": ts, "expires_at": ts, "required_training": str, "contact_role": str,
		"status": map[string]any{"type": "string", "enum": []string{"open", "filled", "withdrawn", "expired"}}, "status_reason": str,
		"tied": map[string]any{"type": "array", "items": obj(map[string]any{"need_id": str, "case_id": str, "centre_id": str, "phase": str, "current_step": str, "status": str})}}),
	"NeedList":   obj(map[string]any{"total": num, "offset": num, "limit": num, "items": arr("Need")}),
	"NeedStatus": obj(map[string]any{"status": map[string]any{"type": "string", "enum": []string{"open", "filled", "withdrawn"}}, "reason": str}, "status"),
	"CourseList": obj(map[string]any{"municipality_code": str, "total": num, "offset": num, "limit": num, "items": map[string]any{"type": "array", "items": obj(map[string]any{
		"code": str, "title": str, "provider": str, "municipality": str, "form": str, "sun": str, "start_date": ts, "pace_percent": num, "weeks": num})}}),
	"Matches": obj(map[string]any{"ssyk": str, "municipality_code": str, "vacancy_total": num,
		"needs": map[string]any{"type": "array", "items": obj(map[string]any{"id": str, "employer_id": str, "employer_name": str, "ssyk": str,
			"municipality": str, "positions": num, "start_date": ts, "required_training": str, "contact_role": str})},
		"vacancies": map[string]any{"type": "array", "items": obj(map[string]any{"id": str, "headline": str, "employer": str, "ssyk": str,
			"occupation_concept_id": str, "occupation_group_concept_id": str, "municipality_code": str, "application_deadline": ts})},
		"unavailable": map[string]any{"type": "object", "additionalProperties": str}}),
	"NeedRequest":     obj(map[string]any{"employer_id": str, "centre_id": str, "ssyk": str, "title": str, "positions": num, "start_date": date, "expires_at": str, "required_training": str, "contact_role": str}, "employer_id", "ssyk", "title", "positions", "start_date"),
	"EscalationList":  obj(map[string]any{"items": map[string]any{"type": "array", "items": anyOb}}),
	"EscalateRequest": obj(map[string]any{"case_ids": map[string]any{"type": "array", "items": str}, "centre_ids": map[string]any{"type": "array", "items": str}, "phase": str, "track": str, "assignee": str, "limit": num, "reason": str, "min_role": str}, "reason"),
	"anyObject":       anyOb,
	"Payloads":        obj(map[string]any{"payloads": map[string]any{"type": "array", "items": obj(map[string]any{"metadata": anyOb, "data": str})}}, "payloads"),
	"AuditList": obj(map[string]any{"items": map[string]any{"type": "array", "items": obj(map[string]any{"id": num, "at": ts, "staff_id": str, "action": str,
		"case_id": str, "participant_id": str, "detail": anyOb, "request_id": str})}}),
}

// OpenAPI builds the document.
func OpenAPI() map[string]any {
	paths := map[string]any{}
	errResp := func(code int) map[string]any {
		return map[string]any{"description": errorText[code], "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
	}
	for _, op := range apiOps {
		o := map[string]any{"summary": op.summary, "operationId": op.method + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(op.path)}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str})
			}
		}
		for _, q := range op.params {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": str})
		}
		action := op.method == "post" && op.response == "ActionResult"
		if action {
			params = append(params, map[string]any{"name": IdempotencyHeader, "in": "header", "required": false, "schema": str,
				"description": "A key of your choosing for this one action (a UUID; the console sends one per form). Sending the same request again " +
					"with the same key returns the first one's result and never applies it twice. Without it, a retry may act twice."})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != "" {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(op.body)}}}
		}
		ok := "200"
		if op.method == "post" && (op.path == "/pathways" || op.path == "/recruitment-needs") {
			ok = "201"
		}
		if op.method == "post" && op.path == "/escalations" {
			ok = "202" // a workflow runs it
		}
		resp := map[string]any{ok: map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": ref(op.response)}}},
			"401": errResp(401)}
		if action {
			resp["202"] = map[string]any{"description": "Sent, but the pathway has not answered within the wait: the action is not lost. " +
				"Location (and action_id) lead to GET /pathways/{case}/actions/{id} for its outcome; state is pending.",
				"headers": map[string]any{"Location": map[string]any{"schema": str}},
				"content": map[string]any{"application/json": map[string]any{"schema": ref("ActionResult")}}}
		}
		codes := append([]int{}, op.errors...)
		sort.Ints(codes)
		for _, c := range codes {
			resp[itoa(c)] = errResp(c)
		}
		o["responses"] = resp
		p, _ := paths["/api/v1"+op.path].(map[string]any)
		if p == nil {
			p = map[string]any{}
			paths["/api/v1"+op.path] = p
		}
		p[op.method] = o
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Pathways API", "version": "1",
			"description": "Labour-market programme pathways. Sign in at /login (session cookie). Staff actions are Temporal Updates: send an Idempotency-Key header with each so a retry is never applied twice; a validator's refusal is 422 with its message; 202 with a Location to the action's status when the pathway has not answered in time; 503 worker_unavailable when no worker polls (nothing was sent). Errors are {\"error\":{\"code\",\"message\",\"field\",\"fields\"}}."},
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "pathways_session"}},
		},
		"security": []any{map[string]any{"session": []any{}}},
		"paths":    paths,
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

var openapiDoc = sync.OnceValue(OpenAPI)

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openapiDoc())
}
