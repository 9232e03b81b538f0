package report

import (
	"math"
	"sort"
)

// z95 is the normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// Wilson is the Wilson score interval of k successes in n at 95%: unlike
// the textbook p ± 1.96·se it stays inside [0, 1] and is honest for small n
// and shares near 0 or 1. n = 0 gives [0, 1].
func Wilson(k, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z95 * z95
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// TwoProportion is the two-sided pooled z-test of k1/n1 against k2/n2; it
// returns z and the p-value. Empty groups or no variation give p = 1.
func TwoProportion(k1, n1, k2, n2 int) (z, p float64) {
	if n1 == 0 || n2 == 0 {
		return 0, 1
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	pool := float64(k1+k2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 0, 1
	}
	z = (p1 - p2) / se
	return z, 2 * normalTail(math.Abs(z))
}

// MannWhitney is the two-sided Mann–Whitney U test of a against b with the
// normal approximation, tie correction and continuity correction; it
// returns U of a and the p-value. It compares whole distributions, so a few
// very long durations do not decide it the way they decide a mean.
func MannWhitney(a, b []float64) (u, p float64) {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 0, 1
	}
	type v struct {
		x     float64
		fromA bool
	}
	all := make([]v, 0, n1+n2)
	for _, x := range a {
		all = append(all, v{x, true})
	}
	for _, x := range b {
		all = append(all, v{x, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].x < all[j].x })
	n := float64(n1 + n2)
	var rankA, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].x == all[i].x {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1 … j
		t := float64(j - i)
		ties += t*t*t - t
		for k := i; k < j; k++ {
			if all[k].fromA {
				rankA += rank
			}
		}
		i = j
	}
	f1, f2 := float64(n1), float64(n2)
	u = rankA - f1*(f1+1)/2
	mean := f1 * f2 / 2
	sd := math.Sqrt(f1 * f2 / 12 * ((n + 1) - ties/(n*(n-1))))
	if sd == 0 {
		return u, 1
	}
	d := math.Abs(u-mean) - 0.5
	if d < 0 {
		d = 0
	}
	return u, math.Min(1, 2*normalTail(d/sd))
}

// Holm adjusts p-values for multiple comparisons (Holm–Bonferroni): the
// family-wise error stays under the level however many groups are tested,
// with more power than plain Bonferroni. The result is in the input's order.
func Holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return ps[idx[i]] < ps[idx[j]] })
	out := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		adj := math.Min(1, float64(m-rank)*ps[i])
		running = math.Max(running, adj) // adjusted values never decrease
		out[i] = running
	}
	return out
}

// normalTail is P(Z > z) of the standard normal.
func normalTail(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }
