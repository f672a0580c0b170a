package main

import (
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-pdf/fpdf"
)

// writeMalformed writes the files a PDF reader meets in the wild and must
// refuse with a clear message, never a crash (docs/documents.md lists them).
func writeMalformed(dir string, good []byte) error {
	files := map[string][]byte{}
	// Truncated: a download cut short, no end-of-file marker.
	files["truncated.pdf"] = good[:len(good)*6/10]
	// Broken cross-reference table: the startxref offset points at garbage.
	files["broken-xref.pdf"] = breakXref(good)
	// Not a PDF at all.
	files["not-a-pdf.pdf"] = []byte("<html><body>Your invoice is attached</body></html>\n")
	// Encrypted with a user password, RC4 40-bit (fpdf's only scheme).
	enc, err := protected("user-secret")
	if err != nil {
		return err
	}
	files["encrypted-rc4.pdf"] = enc
	// Encrypted with AES-128 (V4/R4, AESV2) and a user password: written by
	// hand because fpdf only does RC4.
	files["encrypted-aes128.pdf"] = aes128PDF("user-secret", "Invoice No: INV-AES-1")
	// AES-256 (V5/R6): the parser refuses the scheme itself.
	files["encrypted-aes256.pdf"] = aes256PDF()
	// Zero pages: a valid file whose page tree is empty.
	files["zero-pages.pdf"] = handPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [] /Count 0 >>",
	}, "")
	// Cyclic page tree: the second Pages node lists the root as its kid, so
	// a naive walk (the library's Reader.Page) never ends.
	files["cyclic-page-tree.pdf"] = handPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>",
	}, "")
	// Scanned: one page with an image and no text layer.
	scan, err := scanned()
	if err != nil {
		return err
	}
	files["scanned.pdf"] = scan
	// Memory bomb: a content stream, Flate-compressed twice, that inflates to
	// a 2 GiB string literal; the lexer appends it to one buffer.
	bomb, err := memoryBomb(2 << 30)
	if err != nil {
		return err
	}
	files["memory-bomb.pdf"] = bomb
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func breakXref(good []byte) []byte {
	b := append([]byte{}, good...)
	i := bytes.LastIndex(b, []byte("startxref"))
	j := bytes.LastIndex(b[:i], []byte("\nxref"))
	copy(b[j+1:], "xrfx\n0 7 garbage")
	return b
}

func protected(user string) ([]byte, error) {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetProtection(fpdf.CnProtectPrint, user, "owner-secret")
	f.AddPage()
	f.SetFont("Helvetica", "B", 16)
	f.Text(20, 20, "INVOICE")
	f.SetFont("Helvetica", "", 10)
	f.Text(20, 30, "Invoice No: INV-SECRET-1")
	var buf bytes.Buffer
	err := f.Output(&buf)
	return buf.Bytes(), err
}

func scanned() ([]byte, error) {
	img := image.NewGray(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			v := uint8(255)
			if (x/10+y/10)%2 == 0 && y > 20 && y < 80 {
				v = 30 // blotches where a scan would have text
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		return nil, err
	}
	f := fpdf.New("P", "mm", "A4", "")
	f.AddPage()
	f.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, &pngBuf)
	f.ImageOptions("scan", 10, 10, 190, 95, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	var buf bytes.Buffer
	err := f.Output(&buf)
	return buf.Bytes(), err
}

// handPDF writes objects 1..n with a correct xref table. stream, if set, is
// appended as object n+1's raw body (already "<<...>> stream ... endstream").
func handPDF(objs []string, trailerExtra string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailerExtra, xref)
	return b.Bytes()
}

func deflate(p []byte) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

// memoryBomb builds a page whose content stream is "BT (AAAA…" of n bytes,
// compressed twice so the file stays a few KB.
func memoryBomb(n int64) ([]byte, error) {
	var inner bytes.Buffer
	w, _ := zlib.NewWriterLevel(&inner, zlib.BestCompression)
	w.Write([]byte("BT /F1 12 Tf 72 700 Td ("))
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for written := int64(0); written < n; written += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			return nil, err
		}
	}
	w.Close()
	outer := deflate(inner.Bytes())
	content := fmt.Sprintf("<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n%s\nendstream", len(outer), outer)
	return handPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		content,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}, ""), nil
}

var pad = []byte("\x28\xbf\x4e\x5e\x4e\x75\x8a\x41\x64\x00\x4e\x56\xff\xfa\x01\x08\x2e\x2e\x00\xb6\xd0\x68\x3e\x80\x2f\x0c\xa9\xfe\x64\x53\x69\x7a")

func padPW(pw string) []byte { return append([]byte(pw), pad...)[:32] }

// aes128PDF writes a one-page PDF encrypted with the standard security
// handler, revision 4, AESV2 crypt filter (PDF 1.6), per ISO 32000-1 §7.6.
func aes128PDF(userPW, text string) []byte {
	const keyLen = 16
	id := []byte("exops-corpus-aes")
	P := int32(-3904)
	// O: algorithm 3.
	h := md5.Sum(padPW("owner-secret"))
	ok := h[:]
	for i := 0; i < 50; i++ {
		s := md5.Sum(ok[:keyLen])
		ok = s[:]
	}
	o := padPW(userPW)
	for i := 0; i < 20; i++ {
		k := make([]byte, keyLen)
		for j := range k {
			k[j] = ok[j] ^ byte(i)
		}
		c, _ := rc4.NewCipher(k)
		c.XORKeyStream(o, o)
	}
	// Key: algorithm 2.
	m := md5.New()
	m.Write(padPW(userPW))
	m.Write(o)
	m.Write([]byte{byte(P), byte(P >> 8), byte(P >> 16), byte(P >> 24)})
	m.Write(id)
	key := m.Sum(nil)
	for i := 0; i < 50; i++ {
		s := md5.Sum(key[:keyLen])
		key = s[:]
	}
	key = key[:keyLen]
	// U: algorithm 5.
	m = md5.New()
	m.Write(pad)
	m.Write(id)
	u := m.Sum(nil)
	for i := 0; i < 20; i++ {
		k := make([]byte, keyLen)
		for j := range k {
			k[j] = key[j] ^ byte(i)
		}
		c, _ := rc4.NewCipher(k)
		c.XORKeyStream(u, u)
	}
	u = append(u, make([]byte, 16)...)
	// The content stream, object 4, AES-128-CBC with the object key.
	content := []byte("BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET")
	ob := append(append([]byte{}, key...), 4, 0, 0, 0, 0, 's', 'A', 'l', 'T')
	objKey := md5.Sum(ob)
	block, _ := aes.NewCipher(objKey[:])
	iv := []byte("0123456789abcdef") // fixed for a reproducible corpus
	padN := 16 - len(content)%16
	plain := append(content, bytes.Repeat([]byte{byte(padN)}, padN)...)
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
	enc = append(iv, enc...)
	hexs := func(b []byte) string { return fmt.Sprintf("<%x>", b) }
	return handPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(enc), enc),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Filter /Standard /V 4 /R 4 /Length 128 /P %d /O %s /U %s /CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> /StmF /StdCF /StrF /StdCF >>",
			P, hexs(o), hexs(u)),
	}, fmt.Sprintf("/Encrypt 6 0 R /ID [%s %s] ", hexs(id), hexs(id)))
}

// aes256PDF writes the encryption dictionary of AES-256 (V5/R6) with
// placeholder keys: the parser refuses the scheme before it tries a password.
func aes256PDF() []byte {
	h48 := "<" + strings.Repeat("ab", 48) + ">"
	h32 := "<" + strings.Repeat("cd", 32) + ">"
	return handPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
		fmt.Sprintf("<< /Filter /Standard /V 5 /R 6 /Length 256 /P -3904 /O %s /U %s /OE %s /UE %s /Perms <%s> /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >> /StmF /StdCF /StrF /StdCF >>",
			h48, h48, h32, h32, strings.Repeat("ef", 16)),
	}, "/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] ")
}
