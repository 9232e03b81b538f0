// Package forecast runs a synthetic cohort through the production Pathway
// workflow and its step workflows under the Temporal SDK's time-skipping
// test environment. Outside systems are in-memory fakes; every staff action
// and outside answer is decided by a calibrated behaviour model
// (calibrations/*.yaml), so a manager can ask "what if" of the real
// workflow code, not of a spreadsheet copy of it.
package forecast

import (
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed calibrations/*.yaml
var calibrationFiles embed.FS

// Calibration is the behaviour model of one municipality's centres.
type Calibration struct {
	Name             string `yaml:"name"`
	Title            string `yaml:"title"`
	Source           string `yaml:"source"`
	MunicipalityCode string `yaml:"municipality_code"`
	Participants     int    `yaml:"participants"`
	// Referrals arrive evenly over WindowDays; the cohort is reported at
	// HorizonDays after the first referral.
	WindowDays    int `yaml:"window_days"`
	HorizonDays   int `yaml:"horizon_days"`
	TimeLimitDays int `yaml:"time_limit_days"`
	// Levers: the mapping deadline (days), internship places against the
	// cohort's demand for them, and the share of plans tied to an employer's
	// recruitment need.
	MappingDays       int                      `yaml:"mapping_days"`
	InternshipPlaces  int                      `yaml:"internship_places"`
	InternshipDemand  int                      `yaml:"internship_demand"`
	NeedShare         float64                  `yaml:"need_share"`
	YouthShare        float64                  `yaml:"youth_share"`        // 16–24
	UnderTwentyShare  float64                  `yaml:"under_twenty_share"` // of the youth: activity duty, education first
	ExitMeanDays      float64                  `yaml:"exit_mean_days"`     // moved, sick, declined: mean days to leaving
	ReplanProbability float64                  `yaml:"replan_probability"` // a plan that ran out without an outcome is revised
	Centres           []Centre                 `yaml:"centres"`
	Steps             map[string]StepBehaviour `yaml:"steps"`
	Outcomes          OutcomeMix               `yaml:"outcomes"`
	FollowUp          FollowUpBehaviour        `yaml:"follow_up"`
	// Comparison, when set, is run beside the calibration: the same cohort
	// with one lever changed (Trollhättan: plans not tied to a need).
	Comparison *Comparison `yaml:"comparison"`
}

// Comparison is a lever setting printed beside the calibration's own run.
type Comparison struct {
	Title string  `yaml:"title"`
	Lever string  `yaml:"lever"`
	Value float64 `yaml:"value"`
}

// Centre is how one centre's staff work: how often they act on time.
type Centre struct {
	ID            string  `yaml:"id"`
	Weight        float64 `yaml:"weight"`
	ContactOnTime float64 `yaml:"contact_on_time"` // first contact within the target
	MappingOnTime float64 `yaml:"mapping_on_time"` // mapping before its deadline
	ActOnTime     float64 `yaml:"act_on_time"`     // confirmations, outcomes and follow-ups within a week
}

// StepBehaviour is how one step type goes.
type StepBehaviour struct {
	Days     int     `yaml:"days"`     // planned duration
	Complete float64 `yaml:"complete"` // completed
	DropOut  float64 `yaml:"drop_out"` // dropped out; the rest fail
	// Outcome is the chance a completed step leads to work or studies, and
	// NeedOutcome the same when the plan is tied to a recruitment need.
	Outcome     float64 `yaml:"outcome"`
	NeedOutcome float64 `yaml:"need_outcome"`
	Studies     float64 `yaml:"studies"` // of those outcomes, the share that are studies
}

// OutcomeMix says what kind of work or studies an outcome is.
type OutcomeMix struct {
	Subsidised       float64 `yaml:"subsidised"`        // of work: subsidised employment (with its subsidy)
	MunicipalMeasure float64 `yaml:"municipal_measure"` // of work: the municipality's own labour-market job
	StudentFinance   float64 `yaml:"student_finance"`   // of studies: qualifies for student finance
}

// FollowUpBehaviour is how often people are still there at each follow-up.
type FollowUpBehaviour struct {
	Day30 float64 `yaml:"day30"`
	Day90 float64 `yaml:"day90"`
}

// Calibrations lists the committed calibrations by name.
func Calibrations() []string {
	entries, _ := calibrationFiles.ReadDir("calibrations")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Load reads a committed calibration by name.
func Load(name string) (*Calibration, error) {
	data, err := calibrationFiles.ReadFile("calibrations/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("calibration %q does not exist (there are %s)", name, strings.Join(Calibrations(), ", "))
	}
	var c Calibration
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("calibration %s: %w", name, err)
	}
	return &c, c.Validate()
}

// stepTypes are the step types the model plans with.
var stepTypes = []string{"komvux", "manual", "internship", "worktraining", "subsidised"}

// Validate names the first field that is out of range.
func (c *Calibration) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	prob := func(field string, v float64) {
		if v < 0 || v > 1 {
			bad(field, "%v is not a probability between 0 and 1", v)
		}
	}
	if c.Participants < 1 || c.Participants > 100000 {
		bad("participants", "%d is not between 1 and 100000", c.Participants)
	}
	if c.WindowDays < 1 || c.HorizonDays < 1 || c.TimeLimitDays < 30 {
		bad("window_days", "window_days and horizon_days must be positive and time_limit_days at least 30")
	}
	if c.MappingDays < 7 || c.MappingDays > 120 {
		bad("mapping_days", "%d is not between 7 and 120", c.MappingDays)
	}
	if c.InternshipPlaces < 0 || c.InternshipDemand < 1 {
		bad("internship_places", "places must be 0 or more and internship_demand at least 1")
	}
	prob("need_share", c.NeedShare)
	prob("youth_share", c.YouthShare)
	prob("under_twenty_share", c.UnderTwentyShare)
	prob("replan_probability", c.ReplanProbability)
	if c.ExitMeanDays <= 0 {
		bad("exit_mean_days", "must be positive")
	}
	if len(c.Centres) == 0 {
		bad("centres", "list at least one centre")
	}
	for i, ce := range c.Centres {
		f := fmt.Sprintf("centres[%d]", i)
		if ce.ID == "" || ce.Weight <= 0 {
			bad(f, "needs an id and a positive weight")
		}
		prob(f+".contact_on_time", ce.ContactOnTime)
		prob(f+".mapping_on_time", ce.MappingOnTime)
		prob(f+".act_on_time", ce.ActOnTime)
	}
	for _, t := range stepTypes {
		s, ok := c.Steps[t]
		f := "steps." + t
		if !ok {
			bad(f, "is missing")
			continue
		}
		if s.Days < 1 {
			bad(f+".days", "must be positive")
		}
		prob(f+".complete", s.Complete)
		prob(f+".drop_out", s.DropOut)
		if s.Complete+s.DropOut > 1 {
			bad(f, "complete + drop_out is over 1")
		}
		prob(f+".outcome", s.Outcome)
		prob(f+".need_outcome", s.NeedOutcome)
		prob(f+".studies", s.Studies)
	}
	for t := range c.Steps {
		if !contains(stepTypes, t) {
			bad("steps."+t, "is not a step type the model plans with (%s)", strings.Join(stepTypes, ", "))
		}
	}
	o := "outcomes." // YAML paths, not catalogue keys
	prob(o+"subsidised", c.Outcomes.Subsidised)
	prob(o+"municipal_measure", c.Outcomes.MunicipalMeasure)
	prob(o+"student_finance", c.Outcomes.StudentFinance)
	if c.Comparison != nil {
		probe := *c
		probe.Comparison = nil
		if _, err := probe.WithLever(c.Comparison.Lever, c.Comparison.Value); err != nil {
			bad("comparison", "%v", err)
		}
	}
	prob("follow_up.day30", c.FollowUp.Day30)
	prob("follow_up.day90", c.FollowUp.Day90)
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Levers a manager may change, one at a time.
const (
	LeverInternshipPlaces = "internship_places"
	LeverMappingDays      = "mapping_days"
	LeverNeedShare        = "need_share"
)

// Levers lists them in display order.
var Levers = []string{LeverInternshipPlaces, LeverMappingDays, LeverNeedShare}

// WithLever returns a copy with one lever changed; value is validated.
func (c *Calibration) WithLever(lever string, value float64) (*Calibration, error) {
	out := *c
	out.Comparison = nil
	switch lever {
	case LeverInternshipPlaces:
		if value < 0 || value > 100000 || value != float64(int(value)) {
			return nil, fmt.Errorf("value: internship places must be a whole number from 0 to 100000, not %v", value)
		}
		out.InternshipPlaces = int(value)
	case LeverMappingDays:
		if value < 7 || value > 120 || value != float64(int(value)) {
			return nil, fmt.Errorf("value: the mapping deadline must be a whole number of days from 7 to 120, not %v", value)
		}
		out.MappingDays = int(value)
	case LeverNeedShare:
		if value < 0 || value > 1 {
			return nil, fmt.Errorf("value: the share of plans tied to a need must be between 0 and 1, not %v", value)
		}
		out.NeedShare = value
	default:
		return nil, fmt.Errorf("lever: %q is not one of %s", lever, strings.Join(Levers, ", "))
	}
	return &out, out.Validate()
}

// LeverValue is a lever's value in the calibration.
func (c *Calibration) LeverValue(lever string) float64 {
	switch lever {
	case LeverInternshipPlaces:
		return float64(c.InternshipPlaces)
	case LeverMappingDays:
		return float64(c.MappingDays)
	case LeverNeedShare:
		return c.NeedShare
	}
	return 0
}
