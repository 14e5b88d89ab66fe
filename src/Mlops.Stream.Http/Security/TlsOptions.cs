namespace Mlops.Stream.Http.Security;

/// <summary>
/// The certificate a node serves HTTPS with, on every <c>https://</c> address of the HTTP and gRPC
/// ports (section <c>Tls</c>). A PEM certificate with its key in <see cref="KeyPath"/> (or in the
/// same file), or a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) with <see cref="Password"/>.
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "Tls";

    public const string CertificatePathKey = Section + ":" + nameof(CertificatePath);

    /// <summary>The certificate file: PEM, or PKCS#12 when it ends in <c>.pfx</c> or <c>.p12</c>.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key; without it the key is read from <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PKCS#12 file's password, or the encrypted PEM key's. Better from the environment (<c>Tls__Password</c>) than a file.</summary>
    public string? Password { get; set; }

    public bool Configured => !string.IsNullOrWhiteSpace(CertificatePath);
}
