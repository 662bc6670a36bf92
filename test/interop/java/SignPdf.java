import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collection;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.pdfbox.cos.COSArray;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureOptions;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.visible.PDVisibleSigProperties;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.visible.PDVisibleSignDesigner;
import org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.util.Store;

/**
 * Test harness: signs and verifies PDFs with PDFBox 2 and BouncyCastle, the way a third-party
 * product built on them would. One JVM runs a whole list of jobs; each line of the job file is
 * tab-separated key=value pairs:
 *
 *   op=sign in=a.pdf out=b.pdf p12=k.p12 pass=x [alg=rsa|ecdsa|pss] [visible=1] [certify=1|2|3]
 *           [encrypt=aes128|rc4-128 [userPassword=...]] [cms=der|ber] [password=for-opening-in]
 *   op=verify in=a.pdf [password=user-password]
 *
 * Jobs run in order, so a job may read what an earlier one wrote. For every job one line goes to
 * standard output, tab-separated: "ok <out>" or "error <in> <message>" for signing, and for
 * verification one line per signature field:
 *   "sig <in> <field> <digestMatches> <signatureValid> <detail>".
 */
public final class SignPdf {
    private SignPdf() {}

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        List<String> lines = Files.readAllLines(new File(args[0]).toPath(), StandardCharsets.UTF_8);
        for (String line : lines) {
            if (line.isBlank()) continue;
            Map<String, String> job = parse(line);
            String in = job.getOrDefault("in", "");
            try {
                if ("verify".equals(job.get("op"))) {
                    for (String row : verify(new File(in), job.getOrDefault("password", ""))) System.out.println(row);
                } else {
                    sign(job);
                    System.out.println("ok\t" + job.get("out"));
                }
            } catch (Exception e) {
                System.out.println("error\t" + in + "\t" + oneLine(e));
            }
            System.out.flush();
        }
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> job = new HashMap<>();
        for (String part : line.split("\t")) {
            int eq = part.indexOf('=');
            if (eq > 0) job.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return job;
    }

    private static String oneLine(Throwable e) {
        String message = (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("[\\t\\r\\n]+", " ");
        return message.length() > 300 ? message.substring(0, 300) + "..." : message;
    }

    // ---------------------------------------------------------------- signing

    private static void sign(Map<String, String> job) throws Exception {
        File in = new File(job.get("in"));
        File out = new File(job.get("out"));
        String encrypt = job.get("encrypt");
        String openPassword = job.getOrDefault("password", "");
        if (encrypt != null) {
            // Encrypt with a full save first (PDFBox signs only by incremental update), then sign
            // the encrypted file opened with its owner password.
            File encrypted = new File(out.getPath() + ".encrypted.pdf");
            try (PDDocument doc = PDDocument.load(in)) {
                StandardProtectionPolicy policy = new StandardProtectionPolicy("owner-secret", job.getOrDefault("userPassword", ""), new AccessPermission());
                policy.setEncryptionKeyLength(128);
                policy.setPreferAES("aes128".equals(encrypt));
                doc.protect(policy);
                doc.save(encrypted);
            }
            in = encrypted;
            openPassword = "owner-secret";
        }

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream s = new FileInputStream(job.get("p12"))) {
            ks.load(s, job.get("pass").toCharArray());
        }
        String alias = null;
        for (Enumeration<String> e = ks.aliases(); e.hasMoreElements();) {
            String a = e.nextElement();
            if (ks.isKeyEntry(a)) alias = a;
        }
        if (alias == null) throw new IllegalArgumentException("no key entry in " + job.get("p12"));
        PrivateKey key = (PrivateKey) ks.getKey(alias, job.get("pass").toCharArray());
        Certificate[] chain = ks.getCertificateChain(alias);
        String algorithm = switch (job.getOrDefault("alg", "rsa")) {
            case "ecdsa" -> "SHA256withECDSA";
            case "pss" -> "SHA256WITHRSAANDMGF1";
            default -> "SHA256withRSA";
        };
        boolean ber = "ber".equals(job.getOrDefault("cms", "der"));

        try (PDDocument doc = PDDocument.load(in, openPassword); SignatureOptions options = new SignatureOptions()) {
            PDSignature signature = new PDSignature();
            signature.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
            signature.setSubFilter(PDSignature.SUBFILTER_ADBE_PKCS7_DETACHED);
            signature.setName("Interop Test Signer");
            signature.setLocation("Test Lab");
            signature.setReason("interoperability test");
            signature.setSignDate(Calendar.getInstance());
            if (job.containsKey("certify")) certify(doc, signature, Integer.parseInt(job.get("certify")));
            options.setPreferredSignatureSize(12000);
            if ("1".equals(job.get("visible"))) {
                PDVisibleSignDesigner designer = new PDVisibleSignDesigner(doc, sealImage(), 1);
                designer.xAxis(320).yAxis(560).width(90).height(90);
                PDVisibleSigProperties properties = new PDVisibleSigProperties()
                    .signerName("Interop Test Signer").signerLocation("Test Lab").signatureReason("interoperability test")
                    .preferredSize(0).page(1).visualSignEnabled(true).setPdVisibleSignature(designer);
                properties.buildSignature();
                options.setVisualSignature(properties.getVisibleSignature());
                options.setPage(0);
            }
            doc.addSignature(signature, content -> {
                try {
                    return cms(content.readAllBytes(), key, chain, algorithm, ber);
                } catch (Exception e) {
                    throw new java.io.IOException(e);
                }
            }, options);
            try (OutputStream os = new FileOutputStream(out)) {
                doc.saveIncremental(os);
            }
        }
    }

    /** A certification signature: /Reference with a DocMDP transform and the catalog's /Perms. */
    private static void certify(PDDocument doc, PDSignature signature, int permission) {
        COSDictionary params = new COSDictionary();
        params.setItem(COSName.TYPE, COSName.getPDFName("TransformParams"));
        params.setInt(COSName.P, permission);
        params.setName(COSName.V, "1.2");
        COSDictionary reference = new COSDictionary();
        reference.setItem(COSName.TYPE, COSName.SIG_REF);
        reference.setItem(COSName.TRANSFORM_METHOD, COSName.DOCMDP);
        reference.setItem(COSName.TRANSFORM_PARAMS, params);
        COSArray references = new COSArray();
        references.add(reference);
        signature.getCOSObject().setItem(COSName.REFERENCE, references);
        COSDictionary catalog = doc.getDocumentCatalog().getCOSObject();
        COSDictionary perms = new COSDictionary();
        perms.setItem(COSName.DOCMDP, signature.getCOSObject());
        catalog.setItem(COSName.PERMS, perms);
        catalog.setNeedToBeUpdated(true);
    }

    private static BufferedImage sealImage() {
        BufferedImage image = new BufferedImage(120, 120, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(220, 20, 20));
        g.setStroke(new BasicStroke(6));
        g.drawOval(6, 6, 108, 108);
        g.fillOval(45, 45, 30, 30);
        g.dispose();
        return image;
    }

    private static byte[] cms(byte[] content, PrivateKey key, Certificate[] chain, String algorithm, boolean ber) throws Exception {
        List<Certificate> certificates = Arrays.asList(chain);
        ContentSigner signer = new JcaContentSignerBuilder(algorithm).setProvider("BC").build(key);
        CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
        generator.addSignerInfoGenerator(
            new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().setProvider("BC").build())
                .build(signer, (X509Certificate) chain[0]));
        generator.addCertificates(new JcaCertStore(certificates));
        CMSSignedData signed = generator.generate(new CMSProcessableByteArray(content), false);
        // getEncoded() is BouncyCastle's default encoding, which is what most products ship.
        return ber ? signed.getEncoded() : signed.getEncoded(ASN1Encoding.DER);
    }

    // ---------------------------------------------------------------- verification

    private static List<String> verify(File file, String password) throws Exception {
        byte[] bytes = Files.readAllBytes(file.toPath());
        List<String> rows = new ArrayList<>();
        try (PDDocument doc = PDDocument.load(bytes, password)) {
            for (PDSignatureField field : doc.getSignatureFields()) {
                PDSignature signature = field.getSignature();
                if (signature == null) continue;
                String name = field.getFullyQualifiedName();
                String digest = "false";
                String valid = "false";
                String detail = "";
                try {
                    byte[] contents = signature.getContents(bytes);
                    byte[] signedContent = signature.getSignedContent(bytes);
                    CMSSignedData cms = new CMSSignedData(new CMSProcessableByteArray(signedContent), contents);
                    SignerInformation signer = cms.getSignerInfos().getSigners().iterator().next();
                    Collection<X509CertificateHolder> matches = certificatesOf(cms.getCertificates(), signer);
                    if (matches.isEmpty()) throw new IllegalStateException("signer certificate not in the CMS");
                    Attribute md = signer.getSignedAttributes() == null ? null : signer.getSignedAttributes().get(CMSAttributes.messageDigest);
                    if (md != null) {
                        byte[] claimed = ASN1OctetString.getInstance(md.getAttrValues().getObjectAt(0)).getOctets();
                        byte[] actual = MessageDigest.getInstance(signer.getDigestAlgOID(), "BC").digest(signedContent);
                        digest = String.valueOf(MessageDigest.isEqual(claimed, actual));
                    }
                    try {
                        boolean ok = signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(matches.iterator().next()));
                        valid = String.valueOf(ok);
                    } catch (Exception e) {
                        detail = oneLine(e);
                    }
                } catch (Exception e) {
                    detail = oneLine(e);
                }
                rows.add(String.join("\t", "sig", file.getPath(), name, digest, valid, detail));
            }
        }
        if (rows.isEmpty()) rows.add(String.join("\t", "nosig", file.getPath()));
        return rows;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Collection<X509CertificateHolder> certificatesOf(Store store, SignerInformation signer) {
        return (Collection<X509CertificateHolder>) store.getMatches(signer.getSID());
    }
}
