package activities

import (
	"context"
	"time"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Outside reports a pathway's outcome and closure to the systems around the
// centre. The person is resolved here, from the registry, so personal data
// never enters workflow history.
type Outside struct {
	Deps steps.Deps
}

// Notice is the workflow's notice, declared in its contract.
type Notice = pathway.Notice

// NotifySocialServices tells social services of an outcome or closure, which
// ends or reduces income support.
func (o *Outside) NotifySocialServices(ctx context.Context, n Notice) error {
	person, err := o.Deps.People.Person(ctx, n.CaseID)
	if err != nil {
		return err
	}
	return steps.Classify(o.Deps.SocialServices.Notify(ctx, noticeKey(n, "social"), integrations.SocialNotice{
		CaseID: n.CaseID, Person: person, Event: n.Event, Reason: n.Reason, Outcome: n.Outcome, At: n.At,
	}))
}

// ReportOutcome tells the employment service where the person went, when
// their consent covers it; without consent it reports nothing and says so.
func (o *Outside) ReportOutcome(ctx context.Context, n Notice) (bool, error) {
	person, err := o.Deps.People.Person(ctx, n.CaseID)
	if err != nil {
		return false, err
	}
	reg, err := o.Deps.Employment.Registration(ctx, person)
	if err != nil {
		return false, steps.Classify(err)
	}
	if !covers(reg.Consent, "outcome") {
		return false, nil
	}
	err = o.Deps.Employment.ReportOutcome(ctx, noticeKey(n, "employment"), integrations.OutcomeReport{
		CaseID: n.CaseID, Person: person, Kind: n.Outcome, StartDate: n.Start, SSYK: n.SSYK,
	})
	return err == nil, steps.Classify(err)
}

// ReportPlan tells the employment service of an approved plan or a
// revision, when the person's consent covers plans; without consent it
// reports nothing and says so.
func (o *Outside) ReportPlan(ctx context.Context, n Notice) (bool, error) {
	person, err := o.Deps.People.Person(ctx, n.CaseID)
	if err != nil {
		return false, err
	}
	reg, err := o.Deps.Employment.Registration(ctx, person)
	if err != nil {
		return false, steps.Classify(err)
	}
	if !reg.Registered || !covers(reg.Consent, "plan") {
		return false, nil
	}
	err = o.Deps.Employment.ReportPlan(ctx, noticeKey(n, "employment"), integrations.PlanReport{
		CaseID: n.CaseID, Person: person, TargetSSYK: n.SSYK, Steps: n.Steps,
	})
	return err == nil, steps.Classify(err)
}

// noticeKey is the notice's business key. A notice scheduled by older code
// carries none: it gets one from the case, the event and the event's time,
// which its retries share and no other notice has.
func noticeKey(n Notice, system string) string {
	if n.Key != "" {
		return n.Key
	}
	return n.CaseID + ":notice:" + system + ":" + n.Event + ":" + n.At.UTC().Format(time.RFC3339Nano)
}

func covers(consent []string, what string) bool {
	for _, c := range consent {
		if c == what {
			return true
		}
	}
	return false
}
