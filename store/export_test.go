package store

// PerChangeStatements are the statements every staff action or projection
// runs by case, for the test that checks their plans use an index.
var PerChangeStatements = map[string]string{
	"repair lost placeholders": repairLostPlaceholders,
	"repair lost task changes": repairLostTaskChanges,
	"action applied before":    actionResults,
}
