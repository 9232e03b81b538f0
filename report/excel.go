package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// WriteExcel writes the report as an .xlsx workbook: the same table as the
// CSV on the sheet "Outcomes" (numbers as numbers, "<5" as text so a
// suppressed cell never becomes a zero in a sum), and the comparison and
// the flow on their own sheets.
func (r *Report) WriteExcel(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Outcomes"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	if err := writeSheet(f, sheet, r.Table()); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := f.SetRowStyle(sheet, 1, 1, bold); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	flow := [][]string{{"stage", "participants"}}
	for _, s := range r.Flow {
		flow = append(flow, []string{s.Key, s.Cell.String()})
	}
	if _, err := f.NewSheet("Flow"); err != nil {
		return err
	}
	if err := writeSheet(f, "Flow", flow); err != nil {
		return err
	}
	if c, d := r.Comparison, r.Difference; c != nil && d != nil {
		rows := [][]string{{"comparison", "source", "year", "value_percent", "difference_points", "difference_low", "difference_high"},
			{c.Label, c.Source, strconv.Itoa(c.Year), fmt.Sprintf("%.1f", c.Value)}}
		if d.Suppressed {
			rows[1] = append(rows[1], "<5", "", "")
		} else {
			rows[1] = append(rows[1], fmt.Sprintf("%.1f", d.Points), fmt.Sprintf("%.1f", d.Lo), fmt.Sprintf("%.1f", d.Hi))
		}
		if _, err := f.NewSheet("Comparison"); err != nil {
			return err
		}
		if err := writeSheet(f, "Comparison", rows); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// writeSheet writes rows, numbers as numbers.
func writeSheet(f *excelize.File, sheet string, rows [][]string) error {
	for i, row := range rows {
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = v
			if i > 0 {
				if n, err := strconv.ParseFloat(v, 64); err == nil {
					vals[j] = n
				}
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			return err
		}
	}
	return nil
}

// WriteExcel writes the annual statistics as an .xlsx workbook.
func (a *Annual) WriteExcel(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	sheet := fmt.Sprintf("Annual %d", a.Year)
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	if err := writeSheet(f, sheet, a.Table()); err != nil {
		return err
	}
	return f.Write(w)
}
