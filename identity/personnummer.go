// Package identity validates Swedish personal identity numbers
// (personnummer) and co-ordination numbers (samordningsnummer).
// Errors never repeat the number: it is personal data.
//
// The rules are Skatteverket's (18 § folkbokföringslagen, Rättslig
// vägledning "Personnummer"): a birth date YYMMDD, a birth number 001–999
// and a Luhn check digit (weights 2,1,2,…). The 10-digit form separates the
// date from the birth number with "-", or with "+" from the year the person
// turns 100, so the century follows from the separator and today's year.
// Registers store 12 digits, the century first. A co-ordination number adds
// 60 to the day.
package identity

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
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

// Validation errors; callers can match them with errors.Is. Parse wraps
// them with what exactly is wrong, never with the number itself.
var (
	ErrFormat     = errors.New("personal identity number must be YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD-NNNN or YYMMDD+NNNN (+ from the year the person turns 100)")
	ErrDate       = errors.New("personal identity number has a date that does not exist")
	ErrSerial     = errors.New("personal identity number has birth number 000; birth numbers are 001–999")
	ErrCheckDigit = errors.New("personal identity number has a wrong check digit")
	ErrFuture     = errors.New("personal identity number has a date of birth in the future")
)

// Parse validates s in any of its written forms:
//
//	YYYYMMDD-NNNC, YYYYMMDDNNNC   12 digits, the century given
//	YYMMDD-NNNC                   10 digits, aged under 100 this year
//	YYMMDD+NNNC                   10 digits, 100 or more this year
//
// now is today (the caller's clock): it bounds the date of birth and gives
// the century of the 10-digit forms. The result is always the 12-digit form.
func Parse(s string, now time.Time) (Number, error) {
	s = strings.TrimSpace(s)
	var date, rest string // YYYYMMDD or YYMMDD, NNNC
	sep := byte(0)
	switch len(s) {
	case 13, 11: // with a separator
		sep = s[len(s)-5]
		date, rest = s[:len(s)-5], s[len(s)-4:]
	case 12:
		date, rest = s[:8], s[8:]
	case 10:
		return Number{}, fmt.Errorf("%w: a 10-digit number needs its separator, - or +, to tell the century", ErrFormat)
	default:
		return Number{}, fmt.Errorf("%w: it has %d characters", ErrFormat, utf8.RuneCountInString(s))
	}
	if !digitsOnly(date) || !digitsOnly(rest) {
		return Number{}, fmt.Errorf("%w: only digits and one separator are allowed", ErrFormat)
	}
	switch {
	case len(date) == 8 && sep != 0 && sep != '-':
		return Number{}, fmt.Errorf("%w: the 12-digit form is written with - or no separator", ErrFormat)
	case len(date) == 6 && sep != '-' && sep != '+':
		return Number{}, fmt.Errorf("%w: the separator must be - or +", ErrFormat)
	}
	month, day := atoi(date[len(date)-4:len(date)-2]), atoi(date[len(date)-2:])
	coord := day > 60
	if coord {
		day -= 60
	}
	var year int
	if len(date) == 8 {
		year = atoi(date[:4])
	} else {
		// The latest year not after this one that ends in YY; "+" means a
		// century earlier (the person turns 100 or more this year).
		yy := atoi(date[:2])
		year = now.Year() - ((now.Year()-yy)%100+100)%100
		if sep == '+' {
			year -= 100
		}
	}
	if month < 1 || month > 12 {
		return Number{}, fmt.Errorf("%w: the month must be 01–12", ErrDate)
	}
	birth := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if day < 1 || birth.Day() != day || birth.Month() != time.Month(month) {
		if coord {
			return Number{}, fmt.Errorf("%w: the day, less 60 for a co-ordination number, is not a day of that month", ErrDate)
		}
		return Number{}, fmt.Errorf("%w: the day is not a day of that month (a co-ordination number adds 60)", ErrDate)
	}
	if year < 1870 {
		return Number{}, fmt.Errorf("%w: the year of birth is before 1870", ErrDate)
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if birth.After(today) {
		return Number{}, ErrFuture
	}
	if rest[:3] == "000" {
		return Number{}, ErrSerial
	}
	ten := date[len(date)-6:] + rest
	if !luhnValid(ten) {
		return Number{}, ErrCheckDigit
	}
	return Number{Canonical: fmt.Sprintf("%04d%s-%s", year, date[len(date)-4:], rest), BirthDate: birth, Coordination: coord}, nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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

// Genders as Swedish statistics read them from the identity number.
const (
	Man   = "man"
	Woman = "woman"
)

// Gender reads the identity number's second-last digit, as Swedish
// statistics do: odd for a man, even for a woman; "" when s has too few
// digits to tell.
func Gender(s string) string {
	var digits []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	if len(digits) < 10 {
		return ""
	}
	if (digits[len(digits)-2]-'0')%2 == 1 {
		return Man
	}
	return Woman
}
