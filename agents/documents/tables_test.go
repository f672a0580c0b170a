package documents

import "testing"

// Line tables whose header and rows take shapes the column words alone do
// not settle, read through the text layer of a minimal PDF.
func TestLineTableShapes(t *testing.T) {
	tests := []struct {
		name string
		rows []string
		want []Line
	}{
		{"header over three lines, total in the rightmost unnamed column", []string{
			"330:Prix",
			"40:Description | 240:Quantité | 400:Rem. | 470:Prix HT",
			"330:unitaire",
			"40:Nougat 250g | 240:20 | 330:4,55 € | 400:10% | 470:81,90 €",
			"40:Biscuits 300g | 240:15 | 330:3,20 € | 470:48,00 €",
			"330:Total HT | 470:129,90 €",
		}, []Line{{Description: "Nougat 250g", Quantity: "20", UnitPrice: "4.55", Total: "81.90"}, {Description: "Biscuits 300g", Quantity: "15", UnitPrice: "3.20", Total: "48.00"}}},
		{"position word in a header cell, attribute rows between items, a section heading ends it", []string{
			"40:Pos. Produkt | 250:Menge | 320:Einzelpreis | 470:Gesamtpreis",
			"40:1 Schrauben M6 | 250:5 | 320:20,00 | 470:100,00",
			"60:Beschreibung: | 200:Edelstahl V4A",
			"60:Herkunft: | 200:Deutschland",
			"60:Klassifikation: | 200:UNSPSC 27111708",
			"60:Referenz: | 200:Lieferschein LS-9876",
			"60:Notiz: | 200:Erste Position",
			"60:Merkmal: | 200:gebürstet",
			"60:Gewicht: | 200:1 kg",
			"40:2 Muttern M6 | 250:10 | 320:1,50 | 470:15,00",
			"40:Zahlungsbedingungen:",
			"40:Skonto 2 % | 250:3 | 320:1,00 | 470:3,00",
		}, []Line{{Description: "1 Schrauben M6", Quantity: "5", UnitPrice: "20.00", Total: "100.00"}, {Description: "2 Muttern M6", Quantity: "10", UnitPrice: "1.50", Total: "15.00"}}},
		{"a long details block indented under an item", []string{
			"76:Pos. Produkt | 258:Menge | 320:Einzelpreis | 470:Gesamtpreis",
			"76:1 Fasteners | 258:5 | 320:20,00 | 470:100,00",
			"98:Detail 0: | 213:note text for the item, line 0",
			"98:Detail 1: | 213:note text for the item, line 1",
			"98:Detail 2: | 213:note text for the item, line 2",
			"98:Detail 3: | 213:note text for the item, line 3",
			"98:Detail 4: | 213:note text for the item, line 4",
			"98:Detail 5: | 213:note text for the item, line 5",
			"98:Detail 6: | 213:note text for the item, line 6",
			"98:Detail 7: | 213:note text for the item, line 7",
			"98:Detail 8: | 213:note text for the item, line 8",
			"98:Detail 9: | 213:note text for the item, line 9",
			"98:Detail 10: | 213:note text for the item, line 10",
			"98:Detail 11: | 213:note text for the item, line 11",
			"98:Detail 12: | 213:note text for the item, line 12",
			"98:Detail 13: | 213:note text for the item, line 13",
			"98:Detail 14: | 213:note text for the item, line 14",
			"98:Detail 15: | 213:note text for the item, line 15",
			"98:Detail 16: | 213:note text for the item, line 16",
			"98:Detail 17: | 213:note text for the item, line 17",
			"98:Detail 18: | 213:note text for the item, line 18",
			"98:Detail 19: | 213:note text for the item, line 19",
			"76:2 Cartridges | 258:2 | 320:15,00 | 470:30,00",
		}, []Line{{Description: "1 Fasteners", Quantity: "5", UnitPrice: "20.00", Total: "100.00"}, {Description: "2 Cartridges", Quantity: "2", UnitPrice: "15.00", Total: "30.00"}}},
		{"'Amount' is the quantity beside a Total column; a lone label word wraps a description", []string{
			"40:Amount | 120:Product | 300:Price | 420:Total",
			"40:1.00 | 120:Design (hours): Of a sample | 300:160.00 € | 420:160.00 €",
			"120:invoice",
			"40:400.00 | 120:Balloons | 300:0.79 € | 420:316.00 €",
		}, []Line{{Description: "Design (hours): Of a sample invoice", Quantity: "1.00", UnitPrice: "160.00", Total: "160.00"}, {Description: "Balloons", Quantity: "400.00", UnitPrice: "0.79", Total: "316.00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := ReadTextUnisolated(cidPDF(rowsAt(tt.rows...)), 5)
			if err != nil {
				t.Fatal(err)
			}
			got := ExtractFields(pages).Lines
			if len(got) != len(tt.want) {
				t.Fatalf("lines %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d %+v, want %+v", i+1, got[i], tt.want[i])
				}
			}
		})
	}
}
