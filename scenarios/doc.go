// Package scenarios runs whole pathways on a real Temporal dev server and a
// real PostgreSQL, with the simulators of the outside systems behind real
// HTTP: the integration tests, the committed replay histories and the
// history-size benchmark.
package scenarios
