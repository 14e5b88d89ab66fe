using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mlops.Stream.Http.Security;

/// <summary>
/// The node's TLS certificate, loaded once at start from <see cref="TlsOptions"/> and given to every
/// Kestrel server of the node (the HTTP edge and the gRPC edge), so both serve the same identity.
/// </summary>
public sealed class ServerCertificate(X509Certificate2 certificate)
{
    public X509Certificate2 Certificate { get; } = certificate;

    /// <summary>Every <c>https://</c> address of <paramref name="kestrel"/> serves this certificate.</summary>
    public void ApplyTo(KestrelServerOptions kestrel) =>
        kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = Certificate);

    /// <summary>Loads the configured certificate; the message of what it throws says what is wrong with the files.</summary>
    /// <exception cref="InvalidOperationException">A file is missing or unreadable, or the certificate has no private key.</exception>
    public static ServerCertificate Load(TlsOptions options)
    {
        var path = options.CertificatePath ?? throw new InvalidOperationException("no certificate is configured");
        if (!File.Exists(path)) throw new InvalidOperationException($"the certificate file '{path}' does not exist");
        if (options.KeyPath is { Length: > 0 } keyPath && !File.Exists(keyPath))
            throw new InvalidOperationException($"the key file '{keyPath}' does not exist");
        X509Certificate2 certificate;
        try
        {
            certificate = IsPkcs12(path)
                ? X509CertificateLoader.LoadPkcs12FromFile(path, options.Password)
                : LoadPem(path, options.KeyPath, options.Password);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"'{path}' could not be read as a certificate with its private key: {e.Message.TrimEnd('.')}", e);
        }
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException($"the certificate in '{path}' has no private key; give it in Tls:KeyPath");
        return new ServerCertificate(certificate);
    }

    private static bool IsPkcs12(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".pfx" or ".p12";

    private static X509Certificate2 LoadPem(string certificatePath, string? keyPath, string? password) =>
        string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
}
