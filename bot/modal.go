package bot

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/exops/exops/cases"
)

// CallbackReject is the callback id of the modal that asks for a rejection's
// reason; its private metadata is "caseID|recommendationID|channel".
const CallbackReject = "exops_reject"

// Block and action ids of the reason input in the reject modal.
const (
	reasonBlock  = "reason"
	reasonAction = "reason_input"
)

// RejectModal is the view that asks why a recommendation is rejected: the
// policy needs a reason for every rejection.
func RejectModal(caseID, recID, channel, title string) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, "What is wrong with it?", false, false), reasonAction)
	input.Multiline = true
	input.MaxLength = 1000
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackReject,
		PrivateMetadata: caseID + "|" + recID + "|" + channel,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Reject "+truncate(caseID, 17), false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Reject", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*"+escape(truncate(title, 2900))+"*", false, false), nil, nil),
			slack.NewInputBlock(reasonBlock, slack.NewTextBlockObject(slack.PlainTextType, "Reason", false, false),
				slack.NewTextBlockObject(slack.PlainTextType, "The reason goes into the thread and the audit log.", false, false), input),
		}},
	}
}

// openRejectModal answers a Reject click with the reason modal. The
// trigger id is only valid for 3 seconds, so this runs first.
func (b *Bot) openRejectModal(ctx context.Context, ic slack.InteractionCallback, a *slack.BlockAction, channel string) {
	caseID, recID, ok := strings.Cut(a.Value, "|")
	if !ok || caseID == "" || recID == "" {
		b.ephemeral(ctx, channel, ic.User.ID, "That button is not one of exops's; nothing was recorded.")
		return
	}
	title := strings.TrimPrefix(a.Text.Text, "Reject")
	if title == "" || title == a.Text.Text {
		title = "the recommendation"
	}
	if _, err := b.api.OpenViewContext(ctx, ic.TriggerID, RejectModal(caseID, recID, channel, strings.TrimSpace(title))); err != nil {
		b.log.Error("open reject modal", "case", caseID, "err", slackError("views.open", err))
		b.ephemeral(ctx, channel, ic.User.ID, "Could not open the form for a reason; nothing was recorded. Try again.")
	}
}

// submitReject records a rejection whose reason came from the modal.
func (b *Bot) submitReject(ctx context.Context, ic slack.InteractionCallback) {
	parts := strings.SplitN(ic.View.PrivateMetadata, "|", 3)
	if len(parts) != 3 {
		b.log.Warn("reject modal with malformed metadata", "user", ic.User.ID)
		return
	}
	reason := ""
	if v, ok := viewValues(ic)[reasonBlock][reasonAction]; ok {
		reason = v.Value
	}
	b.record(ctx, parts[2], ic.User.ID, cases.DecideRequest{Case: parts[0], Recommendation: parts[1], Actor: ic.User.ID,
		Choice: cases.ChoiceReject, Reason: strings.TrimSpace(reason)})
}

// viewValues are a submitted modal's input values; Slack may leave the
// state out, which reads as no values.
func viewValues(ic slack.InteractionCallback) map[string]map[string]slack.BlockAction {
	if ic.View.State == nil {
		return nil
	}
	return ic.View.State.Values
}

// viewErrors checks a submitted exops form before Slack closes it: a field
// left blank (spaces pass Slack's own required check) is shown on the form
// to fix, by block id, rather than the form closing and a refusal coming
// after. nil means the form is fine, or not one of exops's.
func viewErrors(ic slack.InteractionCallback) map[string]string {
	if ic.Type != slack.InteractionTypeViewSubmission {
		return nil
	}
	values := viewValues(ic)
	switch ic.View.CallbackID {
	case CallbackReject:
		if strings.TrimSpace(values[reasonBlock][reasonAction].Value) == "" {
			return map[string]string{reasonBlock: "Say why it is rejected; the reason goes into the thread and the audit log."}
		}
	case CallbackSnooze:
		if values[snoozeBlock][snoozeAction].SelectedDateTime == 0 {
			return map[string]string{snoozeBlock: "Pick a date and time to snooze until."}
		}
	case CallbackComment:
		if strings.TrimSpace(values[commentBlock][commentAction].Value) == "" {
			return map[string]string{commentBlock: "Write the comment."}
		}
	}
	return nil
}
