package agents

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/tmc/langchaingo/llms"
)

// ExtractPrompt is the versioned prompt for document field extraction.
const ExtractPrompt = "extract.v1"

// maxDocumentText bounds what of a document's text is sent to a model.
const maxDocumentText = 24000

// ExtractJSON asks the configured model to fill the fields of a supplier
// document's schema from its text. It makes *Agent a documents.FieldModel:
// document extraction fills only the fields its rules left empty from the
// answer, and only with values that appear in the text, then checks the
// arithmetic again. Without a model it fails, and the rules' fields stand.
func (a *Agent) ExtractJSON(ctx context.Context, docText string, schema []byte) ([]byte, error) {
	if a.model == nil {
		return nil, &ModelError{Reason: "no model configured"}
	}
	if len(docText) > maxDocumentText {
		docText = docText[:maxDocumentText]
	}
	// The call budget is per document, as it is per case for summaries.
	sum := sha256.Sum256([]byte(docText))
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, mustPrompt(ExtractPrompt)),
		llms.TextParts(llms.ChatMessageTypeHuman, fmt.Sprintf("Schema:\n%s\n\nDocument text:\n<<<\n%s\n>>>", schema, docText)),
	}
	resp, err := a.model.generate(ctx, a.spender(fmt.Sprintf("document:%x", sum[:8])), msgs, llms.WithJSONMode(), llms.WithTemperature(0), llms.WithMaxTokens(1500))
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := decodeJSON(text(resp), &out); err != nil {
		return nil, &ModelError{Reason: "malformed JSON from the model"}
	}
	return json.Marshal(out)
}
