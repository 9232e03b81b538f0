// Package taxonomy maps the codes pathways stores (SSYK 2012 unit groups,
// SCB municipality codes) to the concept IDs of the JobTech Taxonomy, which
// JobTech JobSearch takes in its occupation-group and municipality
// parameters. The IDs are the taxonomy's published concept IDs (the
// legacy_ams_taxonomy_id of an occupation-group concept is its SSYK code).
// Extend the tables when a centre works with further occupations or
// municipalities; an unknown code is passed to JobSearch unchanged.
package taxonomy

// occupationGroups: SSYK 2012 unit group → occupation-group concept ID.
var occupationGroups = map[string]string{
	"4111": "ij8k_EwC_zyB", // Ekonomiassistenter m.fl.
	"5120": "BStc_SJh_DKG", // Kockar och kallskänkor
	"5311": "Hi9c_iTe_gHH", // Barnskötare
	"5321": "jY19_knH_MJp", // Undersköterskor, hemsjukvård, äldreboende och habilitering
	"5330": "tAJS_JNb_hDH", // Vårdbiträden
	"7111": "9mJN_VwW_Xjg", // Träarbetare, snickare m.fl.
	"8331": "FiDm_2S8_gx7", // Buss- och spårvagnsförare
	"8332": "3MBw_pDA_P2F", // Lastbilsförare m.fl.
	"9412": "tPox_ie4_X9X", // Restaurang- och köksbiträden m.fl.
}

// municipalities: SCB municipality code → municipality concept ID.
var municipalities = map[string]string{
	"1480": "PVZL_BQT_XtL", // Göteborg
	"1481": "mc45_ki9_Bv3", // Mölndal
	"1482": "ZkZf_HbK_Mcr", // Kungälv
	"1485": "xQc2_SzA_rHK", // Uddevalla
	"1487": "THif_q6H_MjG", // Vänersborg
	"1488": "CSy8_41F_YvX", // Trollhättan
	"1489": "UQ75_1eU_jaC", // Alingsås
	"1490": "TpRZ_bFL_jhL", // Borås
}

var (
	ssykOf         = invert(occupationGroups)
	municipalityOf = invert(municipalities)
)

func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// OccupationGroup is the concept ID of an SSYK code; a value that is not a
// known code (a concept ID already, or an unmapped code) comes back as is.
func OccupationGroup(ssyk string) string { return lookup(occupationGroups, ssyk) }

// SSYK is the SSYK code of an occupation-group concept ID, or "".
func SSYK(conceptID string) string { return ssykOf[conceptID] }

// Municipality is the concept ID of a municipality code, or the value as is.
func Municipality(code string) string { return lookup(municipalities, code) }

// MunicipalityCode is the SCB code of a municipality concept ID, or "".
func MunicipalityCode(conceptID string) string { return municipalityOf[conceptID] }

func lookup(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}
