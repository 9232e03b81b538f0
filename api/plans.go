package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/plans"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

func init() {
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Get("/pathways/{case}/courses", s.apiCourses)
	})
}

var plansOnce struct {
	sync.Mutex
	byServer map[*Server]*plans.Service
}

// plans is the plan service: Server.Plans, or one built from the
// configured systems on first use.
func (s *Server) plans() *plans.Service {
	if s.Plans != nil {
		return s.Plans
	}
	plansOnce.Lock()
	defer plansOnce.Unlock()
	if plansOnce.byServer == nil {
		plansOnce.byServer = map[*Server]*plans.Service{}
	}
	if p := plansOnce.byServer[s]; p != nil {
		return p
	}
	c := integrations.NewClients(s.Config)
	p := &plans.Service{Education: c.Education, Needs: c.Needs, Steps: catalog.Registry()}
	plansOnce.byServer[s] = p
	return p
}

// needs is the employer system's need registry.
func (s *Server) needs() integrations.NeedRegistry { return s.plans().Needs }

// planCase gathers what plan validation needs of a case: its centre's
// municipality, its programme, and from the workflow the days left, the
// linked need and the steps done.
func (s *Server) planCase(ctx context.Context, row store.PathwayRow) (plans.Case, error) {
	c := plans.Case{CaseID: row.CaseID, ActivityDuty: row.ActivityDuty}
	centre, err := store.GetCentre(ctx, s.Pool, row.CentreID)
	if err != nil {
		return c, err
	}
	c.Municipality = centre.MunicipalityCode
	if s.Cases != nil && s.Cases.Programmes != nil {
		c.Programme, _ = s.Cases.Programmes.Get(row.Programme)
	}
	if row.DaysLeft != nil {
		c.DaysLeft = *row.DaysLeft
	}
	if live := s.liveStatus(ctx, row.CaseID); live != nil {
		c.DaysLeft, c.CurrentNeed = live.DaysLeft, live.NeedID
		for _, st := range live.Steps {
			if st.Status == pathway.StepCompleted {
				c.Completed++
			}
		}
	}
	return c, nil
}

// preparePlan validates the whole plan before the Update is sent: 422
// invalid_plan names each problem on its field.
func (s *Server) preparePlan(r *http.Request, row store.PathwayRow, plan *pathway.Plan) (int, *Problem) {
	c, err := s.planCase(r.Context(), row)
	if err != nil {
		s.Log.Error("plan: read case", zap.Error(err))
		return http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: "the plan could not be checked; nothing was sent; try again"}
	}
	err = s.plans().Prepare(r.Context(), c, plan)
	var invalid *plans.Invalid
	var unavailable *plans.Unavailable
	switch {
	case errors.As(err, &invalid):
		pr := Problem{Code: "invalid_plan", Message: "the plan was refused; nothing was sent"}
		for _, f := range invalid.Fields {
			pr.Fields = append(pr.Fields, FieldProblem{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		pr.Field, pr.Message = pr.Fields[0].Field, pr.Fields[0].Field+": "+pr.Fields[0].Message
		return http.StatusUnprocessableEntity, &pr
	case errors.As(err, &unavailable):
		return http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: unavailable.Error() + "; nothing was sent; try again"}
	case err != nil:
		s.Log.Error("plan: prepare", zap.Error(err))
		return http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: "the plan could not be checked; nothing was sent; try again"}
	}
	return http.StatusOK, nil
}

// apiCourses searches the education system's course occasions in the
// participant's municipality by name or code: ?q=&limit=&offset=.
func (s *Server) apiCourses(w http.ResponseWriter, r *http.Request) {
	row, ok := s.access(w, r, chi.URLParam(r, "case"))
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, prob := queryInt(q, "limit", 20, 200)
	if prob == nil {
		var off int
		off, prob = queryInt(q, "offset", 0, 100000)
		if prob == nil {
			centre, err := store.GetCentre(r.Context(), s.Pool, row.CentreID)
			if err != nil {
				s.internal(w, r, "read centre", err)
				return
			}
			cs, err := s.plans().SearchCourses(r.Context(), centre.MunicipalityCode, q.Get("q"))
			if err != nil {
				writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "unavailable", Message: fmt.Sprintf("the education system did not answer: %v", err)})
				return
			}
			total := len(cs)
			cs = cs[min(off, total):min(off+limit, total)]
			writeJSON(w, http.StatusOK, map[string]any{"municipality_code": centre.MunicipalityCode, "total": total,
				"offset": off, "limit": limit, "items": cs})
			return
		}
	}
	writeProblem(w, http.StatusBadRequest, *prob)
}
