package pathway

import (
	"strings"
	"testing"
)

// Each missing or contradictory detail is refused naming its field.
func TestCheckOutcomeDetailsNamesTheField(t *testing.T) {
	yes := true
	for _, c := range []struct {
		o     Outcome
		field string // "" = accepted
	}{
		{Outcome{Kind: OutcomeWork, EmployerKind: EmployerRegular, EmploymentForm: EmploymentUnsubsidised}, ""},
		{Outcome{Kind: OutcomeWork, EmploymentForm: EmploymentUnsubsidised}, "employer_kind"},
		{Outcome{Kind: OutcomeWork, EmployerKind: "private"}, "employer_kind"},
		{Outcome{Kind: OutcomeWork, EmployerKind: EmployerRegular}, "employment_form"},
		{Outcome{Kind: OutcomeWork, EmployerKind: EmployerRegular, EmploymentForm: EmploymentSubsidised}, "subsidy"},
		{Outcome{Kind: OutcomeSubsidisedWork, EmployerKind: EmployerMunicipalMeasure}, "subsidy"},
		{Outcome{Kind: OutcomeSubsidisedWork, EmployerKind: EmployerRegular, EmploymentForm: EmploymentUnsubsidised}, "employment_form"},
		{Outcome{Kind: OutcomeSubsidisedWork, EmployerKind: EmployerRegular, Subsidy: "nystartsjobb"}, ""},
		{Outcome{Kind: OutcomeWork, EmployerKind: EmployerRegular, EmploymentForm: EmploymentUnsubsidised, StudentFinance: &yes}, "student_finance"},
		{Outcome{Kind: OutcomeStudies, StudyForm: StudyKomvux, StudentFinance: &yes}, ""},
		{Outcome{Kind: OutcomeStudies, StudyForm: StudyKomvux}, "student_finance"},
		{Outcome{Kind: OutcomeStudies, StudentFinance: &yes}, "study_form"},
		{Outcome{Kind: OutcomeStudies, StudyForm: StudyOther, StudentFinance: &yes, EmployerKind: EmployerRegular}, "employer_kind"},
	} {
		err := CheckOutcomeDetails(c.o)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%+v refused: %v", c.o, err)
		case c.field != "" && (err == nil || !strings.Contains(err.Error(), c.field)):
			t.Errorf("%+v: %v, want an error naming %s", c.o, err, c.field)
		}
	}
}
