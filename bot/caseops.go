package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/exops/exops/cases"
)

// Callback ids of the modals for case operations; their private metadata is
// "caseID|channel".
const (
	CallbackSnooze  = "exops_snooze"
	CallbackComment = "exops_comment"
)

const (
	snoozeBlock   = "until"
	snoozeAction  = "until_input"
	commentBlock  = "comment"
	commentAction = "comment_input"
)

var errNotHere = cases.Errorf(cases.KindInvalid, "This exops is set up for approvals only; that command is not available here.")

// offers reports whether a service is set up, and tells the person when not.
func (b *Bot) offers(ctx context.Context, channel, user string, ok bool) bool {
	if !ok {
		b.answerErr(ctx, channel, user, errNotHere)
	}
	return ok
}

// caseAction handles the buttons that act on the whole case.
func (b *Bot) caseAction(ctx context.Context, ic slack.InteractionCallback, a *slack.BlockAction, channel string) {
	user, id := ic.User.ID, a.Value
	if id == "" || len(id) > 64 {
		b.ephemeral(ctx, channel, user, "That button is not one of exops's; nothing was recorded.")
		return
	}
	if !b.offers(ctx, channel, user, b.svc.Operator != nil) {
		return
	}
	switch a.ActionID {
	case ActionAssign:
		_, err := b.svc.Operator.Assign(ctx, id, user, user)
		b.answer(ctx, channel, user, err, "You have "+id+" now.")
	case ActionEscalate:
		c, err := b.svc.Operator.Escalate(ctx, id, user)
		msg := ""
		if c != nil && len(c.Escalated) > 0 {
			msg = fmt.Sprintf("Escalated %s (%s).", id, c.Escalated[len(c.Escalated)-1])
		}
		b.answer(ctx, channel, user, err, msg)
	case ActionSnooze:
		b.openModal(ctx, ic, channel, SnoozeModal(id, channel, b.now()))
	case ActionComment:
		b.openModal(ctx, ic, channel, CommentModal(id, channel))
	}
}

func (b *Bot) openModal(ctx context.Context, ic slack.InteractionCallback, channel string, view slack.ModalViewRequest) {
	if _, err := b.api.OpenViewContext(ctx, ic.TriggerID, view); err != nil {
		b.log.Error("open modal", "callback", view.CallbackID, "err", slackError("views.open", err))
		b.ephemeral(ctx, channel, ic.User.ID, "Could not open the form; nothing was recorded. Try again.")
	}
}

// answer tells the person what their action did, or why not.
func (b *Bot) answer(ctx context.Context, channel, user string, err error, ok string) {
	if err != nil {
		b.answerErr(ctx, channel, user, err)
		return
	}
	if ok == "" {
		ok = "Done."
	}
	b.ephemeral(ctx, channel, user, ok)
}

// answerErr turns an error into plain words: the error's own message for
// what the person can act on, a generic line for our failures.
func (b *Bot) answerErr(ctx context.Context, channel, user string, err error) {
	msg := genericFailure
	var ce *cases.Error
	if errors.As(err, &ce) && ce.Msg != "" {
		switch ce.Kind {
		case cases.KindDenied, cases.KindConflict, cases.KindNotFound, cases.KindInvalid, cases.KindTransient:
			msg = ce.Msg
		}
	}
	if cases.KindOf(err) == cases.KindInternal {
		b.log.Error("request failed", "user", user, "err", err)
	}
	b.ephemeral(ctx, channel, user, msg)
}

// SnoozeModal asks until when to hold a case's reminders.
func SnoozeModal(caseID, channel string, now time.Time) slack.ModalViewRequest {
	picker := slack.NewDateTimePickerBlockElement(snoozeAction)
	picker.InitialDateTime = now.Add(24 * time.Hour).Truncate(time.Hour).Unix()
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackSnooze,
		PrivateMetadata: caseID + "|" + channel,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Snooze "+truncate(caseID, 17), false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Snooze", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(snoozeBlock, slack.NewTextBlockObject(slack.PlainTextType, "No reminders or escalations until", false, false), nil, picker),
		}},
	}
}

// CommentModal asks for a comment on a case.
func CommentModal(caseID, channel string) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, "What should the team know?", false, false), commentAction)
	input.Multiline = true
	input.MaxLength = cases.MaxCommentLen
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackComment,
		PrivateMetadata: caseID + "|" + channel,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Comment on "+truncate(caseID, 13), false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Add", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(commentBlock, slack.NewTextBlockObject(slack.PlainTextType, "Comment", false, false), nil, input),
		}},
	}
}

// submitCaseModal records what a snooze or comment form says.
func (b *Bot) submitCaseModal(ctx context.Context, ic slack.InteractionCallback) {
	id, channel, ok := strings.Cut(ic.View.PrivateMetadata, "|")
	user := ic.User.ID
	if !ok || id == "" {
		b.log.Warn("case modal with malformed metadata", "user", user)
		return
	}
	if !b.offers(ctx, channel, user, b.svc.Operator != nil) {
		return
	}
	values := viewValues(ic)
	switch ic.View.CallbackID {
	case CallbackSnooze:
		v := values[snoozeBlock][snoozeAction]
		if v.SelectedDateTime == 0 {
			b.ephemeral(ctx, channel, user, "Pick a date and time to snooze until; nothing was changed.")
			return
		}
		until := time.Unix(v.SelectedDateTime, 0).UTC()
		_, err := b.svc.Operator.Snooze(ctx, id, user, until)
		b.answer(ctx, channel, user, err, fmt.Sprintf("%s is snoozed until %s.", id, until.Format("2006-01-02 15:04 MST")))
	case CallbackComment:
		_, err := b.svc.Operator.Comment(ctx, id, user, values[commentBlock][commentAction].Value)
		b.answer(ctx, channel, user, err, "Your comment is in the thread of "+id+".")
	}
}
