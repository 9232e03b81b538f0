// Package identity validates Swedish personal identity numbers
// (personnummer) and co-ordination numbers (samordningsnummer).
// Errors never repeat the number: it is personal data.
package identity

import (
	"errors"
	"strings"
	"time"
)

// Number is a validated identity number.
type Number struct {
	// Canonical is the 12-digit form with a dash: YYYYMMDD-NNNN.
	Canonical string
	// BirthDate is the date of birth (for a co-ordination number, with 60 taken off the day).
	BirthDate time.Time
	// Coordination is true for a samordningsnummer.
	Coordination bool
}

// Validation errors; callers can match them with errors.Is.
var (
	ErrFormat     = errors.New("personal identity number must be 12 digits as YYYYMMDD-NNNN")
	ErrDate       = errors.New("personal identity number has a date that does not exist")
	ErrCheckDigit = errors.New("personal identity number has a wrong check digit")
	ErrFuture     = errors.New("personal identity number has a date of birth in the future")
)

// Parse validates s, accepting YYYYMMDD-NNNN or YYYYMMDDNNNN. now bounds the
// date of birth; pass the clock of the caller.
func Parse(s string, now time.Time) (Number, error) {
	s = strings.TrimSpace(s)
	digits := strings.Replace(s, "-", "", 1)
	if len(digits) != 12 || (len(s) == 13 && s[8] != '-') {
		return Number{}, ErrFormat
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return Number{}, ErrFormat
		}
	}
	year := atoi(digits[0:4])
	month := atoi(digits[4:6])
	day := atoi(digits[6:8])
	coord := false
	if day > 60 {
		coord = true
		day -= 60
	}
	birth := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || day < 1 || birth.Day() != day || birth.Month() != time.Month(month) || year < 1870 {
		return Number{}, ErrDate
	}
	if birth.After(now) {
		return Number{}, ErrFuture
	}
	if !luhnValid(digits[2:]) {
		return Number{}, ErrCheckDigit
	}
	return Number{Canonical: digits[:8] + "-" + digits[8:], BirthDate: birth, Coordination: coord}, nil
}

// AgeOn returns the whole years of age on the given day.
func (n Number) AgeOn(day time.Time) int {
	age := day.Year() - n.BirthDate.Year()
	if day.Month() < n.BirthDate.Month() || (day.Month() == n.BirthDate.Month() && day.Day() < n.BirthDate.Day()) {
		age--
	}
	return age
}

// luhnValid checks the 10-digit YYMMDDNNNC form: weights 2,1,2,1… from the left.
func luhnValid(ten string) bool {
	sum := 0
	for i, r := range ten {
		d := int(r - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// CheckDigit computes the Luhn digit for the first nine of the ten digits;
// test data and the simulators use it to make valid numbers.
func CheckDigit(nine string) byte {
	sum := 0
	for i, r := range nine {
		d := int(r - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
