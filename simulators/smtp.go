package simulators

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// MailMessage is one message the SMTP sink received, once per Message-ID.
// Staff addresses only: the notifier never names a participant.
type MailMessage struct {
	MessageID      string    `json:"message_id"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	From           string    `json:"from"`
	To             []string  `json:"to"`
	Subject        string    `json:"subject"`
	Body           string    `json:"body"`
	ReceivedAt     time.Time `json:"received_at"`
	Deliveries     int       `json:"deliveries"`
}

type mailState struct {
	byID       map[string]*MailMessage
	order      []string
	deliveries int
	duplicates int
	seq        int
}

func (m *mailState) init() { m.byID = map[string]*MailMessage{} }

// Mail lists received messages, oldest first.
func (s *Sim) Mail() []MailMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MailMessage, 0, len(s.mail.order))
	for _, id := range s.mail.order {
		m := *s.mail.byID[id]
		m.To = append([]string{}, m.To...)
		out = append(out, m)
	}
	return out
}

func (s *Sim) adminMail(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"messages": s.Mail()})
}

// store records a delivered message; a Message-ID already seen is counted as
// a duplicate delivery and not stored again.
func (s *Sim) storeMail(from string, to []string, raw []byte) (string, bool) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	m := &MailMessage{From: from, To: to, ReceivedAt: time.Now().UTC(), Deliveries: 1}
	if err == nil {
		dec := new(mime.WordDecoder)
		m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
		m.IdempotencyKey = msg.Header.Get("Idempotency-Key")
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			m.Subject = subj
		} else {
			m.Subject = msg.Header.Get("Subject")
		}
		var body io.Reader = msg.Body
		switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(msg.Body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, msg.Body)
		}
		b, _ := io.ReadAll(body)
		m.Body = strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mail.deliveries++
	st := s.statsLocked("smtp")
	if m.MessageID == "" {
		s.mail.seq++
		m.MessageID = fmt.Sprintf("<sim-%d@pathways-sim>", s.mail.seq)
	}
	if old, ok := s.mail.byID[m.MessageID]; ok {
		old.Deliveries++
		s.mail.duplicates++
		st.Replays++
		return m.MessageID, true
	}
	s.mail.byID[m.MessageID] = m
	s.mail.order = append(s.mail.order, m.MessageID)
	st.SideEffects++
	if m.IdempotencyKey == "" {
		st.Unkeyed++
	}
	return m.MessageID, false
}

// smtpServer is a minimal SMTP sink (RFC 5321 subset: EHLO/HELO, AUTH PLAIN
// accepting anything, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
type smtpServer struct {
	sim   *Sim
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// ServeSMTP accepts SMTP on ln until ctx ends.
func (s *Sim) ServeSMTP(ctx context.Context, ln net.Listener) error {
	srv := &smtpServer{sim: s, conns: map[net.Conn]struct{}{}}
	go func() {
		<-ctx.Done()
		ln.Close()
		srv.mu.Lock()
		for c := range srv.conns {
			c.Close()
		}
		srv.mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			srv.wg.Wait()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		srv.mu.Lock()
		srv.conns[c] = struct{}{}
		srv.mu.Unlock()
		srv.wg.Add(1)
		go func() {
			defer srv.wg.Done()
			defer func() {
				srv.mu.Lock()
				delete(srv.conns, c)
				srv.mu.Unlock()
				c.Close()
			}()
			srv.session(ctx, c)
		}()
	}
}

func (srv *smtpServer) session(ctx context.Context, c net.Conn) {
	s := srv.sim
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) error {
		_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		return tp.PrintfLine(format, args...)
	}
	if reply("220 pathways-sim ESMTP ready") != nil {
		return
	}
	var from string
	var to []string
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			from, to = "", nil
			_ = reply("250-pathways-sim greets %s", arg)
			_ = reply("250-8BITMIME")
			_ = reply("250-AUTH PLAIN")
			_ = reply("250 SIZE 10485760")
		case "HELO":
			from, to = "", nil
			_ = reply("250 pathways-sim")
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				_ = reply("504 5.5.4 unrecognised authentication type")
				continue
			}
			if initial == "" {
				_ = reply("334 ")
				if _, err := tp.ReadLine(); err != nil {
					return
				}
			}
			_ = reply("235 2.7.0 authentication successful")
		case "MAIL":
			if !strings.HasPrefix(strings.ToUpper(arg), "FROM:") {
				_ = reply("501 5.5.4 syntax: MAIL FROM:<address>")
				continue
			}
			if code, drop := srv.fault(ctx); drop {
				return
			} else if code != 0 {
				_ = reply("%d injected fault", code)
				continue
			}
			from, to = addr(arg[5:]), nil
			_ = reply("250 2.1.0 OK")
		case "RCPT":
			if from == "" && !strings.HasPrefix(strings.ToUpper(arg), "TO:") {
				_ = reply("503 5.5.1 need MAIL first")
				continue
			}
			if !strings.HasPrefix(strings.ToUpper(arg), "TO:") {
				_ = reply("501 5.5.4 syntax: RCPT TO:<address>")
				continue
			}
			to = append(to, addr(arg[3:]))
			_ = reply("250 2.1.5 OK")
		case "DATA":
			if from == "" || len(to) == 0 {
				_ = reply("503 5.5.1 need MAIL and RCPT first")
				continue
			}
			_ = reply("354 end data with <CR><LF>.<CR><LF>")
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Minute))
			raw, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			start := time.Now()
			id, dup := s.storeMail(from, to, raw)
			rec := RequestRecord{At: start.UTC(), System: "smtp", Method: "DATA", Path: "/smtp", Status: 250, Replay: dup}
			if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
				rec.IdempotencyKey = m.Header.Get("Idempotency-Key")
			}
			if !dup {
				rec.Created = id
			}
			s.record(rec)
			_ = reply("250 2.0.0 OK queued as %s", strings.Trim(id, "<>"))
			from, to = "", nil
		case "RSET":
			from, to = "", nil
			_ = reply("250 2.0.0 OK")
		case "NOOP":
			_ = reply("250 2.0.0 OK")
		case "QUIT":
			_ = reply("221 2.0.0 bye")
			return
		default:
			_ = reply("502 5.5.2 command not recognised")
		}
	}
}

// fault applies the smtp faults at MAIL: latency, drop/timeout (close the
// connection), or an SMTP reply code.
func (srv *smtpServer) fault(ctx context.Context) (code int, drop bool) {
	s := srv.sim
	fs := s.spec("smtp")
	if fs == nil {
		return 0, false
	}
	rec := RequestRecord{At: time.Now().UTC(), System: "smtp", Method: "MAIL", Path: "/smtp"}
	if d := s.latency(fs); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	switch {
	case s.roll(fs.DropRate):
		rec.Fault = "drop"
	case s.roll(fs.TimeoutRate):
		rec.Fault = "timeout"
		select {
		case <-time.After(fs.hang()):
		case <-ctx.Done():
		}
	default:
		if code = s.pickError(fs); code == 0 {
			return 0, false
		}
		rec.Fault, rec.Status = "error", code
		s.record(rec)
		return code, false
	}
	s.record(rec)
	s.log.Debug("smtp fault", zap.String("fault", rec.Fault))
	return 0, true
}

// addr takes "<a@b> SIZE=123" or "a@b" to "a@b".
func addr(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '>'); strings.HasPrefix(s, "<") && i > 0 {
		return s[1:i]
	}
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
