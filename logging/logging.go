// Package logging builds the process's zap logger: JSON in production,
// readable console output in development.
package logging

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pathways-se/pathways/config"
)

// New returns the logger the config asks for.
func New(c *config.Config) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.Log.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	format := c.Log.Format
	if format == "" {
		format = "console"
		if c.Production() {
			format = "json"
		}
	}
	var zc zap.Config
	if format == "json" {
		zc = zap.NewProductionConfig()
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		zc.DisableStacktrace = true
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	return zc.Build()
}
