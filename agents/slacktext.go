package agents

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Questions reach the parser as Slack delivers them: "<#C0AP|ap-exceptions>"
// for a channel, "<https://…|SO-1042>" for a link, "<@U0KIM|kim>" for a
// person, "&gt;" for a quoted line, *bold*, `code` and :emoji:. plainText
// turns that markup into the words it shows, so the passes read what the
// asker saw; left in, an id such as C0AP01 was read as a customer name and
// "ap@" of an e-mail address as the AP team.

var (
	reSlackChannel = regexp.MustCompile(`<#([A-Z0-9]+)(?:\|([^>]*))?>`)
	reSlackUser    = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)
	reSlackLink    = regexp.MustCompile(`<((?:https?|mailto|tel):[^|>]*)(?:\|([^>]*))?>`)
	reSlackSpecial = regexp.MustCompile(`<![^>]*>`) // <!here>, <!subteam^S1|@ap>
	reEmoji        = regexp.MustCompile(`:[a-z][a-z0-9_+'-]*:`)
	reEmail        = regexp.MustCompile(`[\w.+-]+@[\w-]+(?:\.[\w-]+)+`)
	reFormatOpen   = regexp.MustCompile("(^|[\\s(])[*_~`]+")
	reFormatClose  = regexp.MustCompile("[*_~`]+([\\s).,;:!?]|$)")
	reQuoteMark    = regexp.MustCompile(`(?m)^\s*>+\s?`)
	reLinkID       = regexp.MustCompile(`\d`)
)

var htmlEntities = strings.NewReplacer("&gt;", ">", "&lt;", "<", "&amp;", "&")

// plainText is q without Slack's markup. unnamedChannel is set when q
// refers to a channel Slack did not name ("<#C0ZZ99>"): its team cannot be
// known, and answering as if no channel were named would be wrong.
func plainText(q string) (text string, unnamedChannel bool) {
	if !strings.ContainsAny(q, "<>&*_~`:@") {
		return q, false
	}
	q = reSlackChannel.ReplaceAllStringFunc(q, func(m string) string {
		name := reSlackChannel.FindStringSubmatch(m)[2]
		if name == "" {
			unnamedChannel = true
			return " "
		}
		return "#" + name
	})
	q = reSlackUser.ReplaceAllString(q, "<@$1>")
	q = reSlackLink.ReplaceAllStringFunc(q, func(m string) string {
		sm := reSlackLink.FindStringSubmatch(m)
		target, label := sm[1], sm[2]
		if strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "tel:") {
			return " " // an address names a person, not what is asked
		}
		if reLinkID.MatchString(label) {
			return label
		}
		// A link labelled in words ("this PO") to a record of a system
		// names the record by the last part of its path.
		if u, err := url.Parse(target); err == nil {
			if last := path.Base(u.Path); reLinkID.MatchString(last) {
				return strings.TrimSpace(label + " " + last)
			}
		}
		if label == "" {
			return " "
		}
		return label
	})
	q = reSlackSpecial.ReplaceAllString(q, " ")
	q = htmlEntities.Replace(q)
	q = reQuoteMark.ReplaceAllString(q, "")
	q = reEmoji.ReplaceAllString(q, " ")
	q = reEmail.ReplaceAllString(q, " ")
	q = reFormatOpen.ReplaceAllString(q, "$1")
	q = reFormatClose.ReplaceAllString(q, "$1")
	return q, unnamedChannel
}
