using Mlops.Stream.Grpc;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http.Security;

namespace Mlops.Stream.Host.Listening;

/// <summary>
/// HTTPS for the node's ports: with <c>Tls:CertificatePath</c> set, the certificate is loaded while
/// the node is composed (a missing file or key stops the node at start, naming the key) and every
/// <c>https://</c> address of the HTTP and gRPC ports serves it. An <c>https://</c> address without
/// a certificate stops the node too, naming the address's key, rather than failing at the first call.
/// </summary>
public static class TlsSetup
{
    /// <exception cref="ConfigurationException">A certificate that cannot be loaded, or an https address without one.</exception>
    public static void AddMlopsTls(this WebApplicationBuilder builder, ListenUrls httpUrls)
    {
        var tls = builder.Configuration.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
        if (tls.Configured)
        {
            ServerCertificate certificate;
            try
            {
                certificate = ServerCertificate.Load(tls);
            }
            catch (InvalidOperationException e)
            {
                throw new ConfigurationException(TlsOptions.CertificatePathKey, e.Message);
            }
            builder.Services.AddSingleton(certificate);
            builder.WebHost.ConfigureKestrel(certificate.ApplyTo);
            return;
        }

        foreach (var (key, url) in HttpsAddresses(builder.Configuration, httpUrls))
        {
            throw new ConfigurationException(key,
                $"'{url}' asks for TLS but no certificate is configured; set {TlsOptions.CertificatePathKey} (PEM with Tls:KeyPath, or PKCS#12) or use http://");
        }
    }

    private static IEnumerable<(string Key, string Url)> HttpsAddresses(IConfiguration configuration, ListenUrls httpUrls)
    {
        foreach (var configured in httpUrls.All.Where(c => IsHttps(c.Url.Text)))
        {
            yield return (configured.Key, configured.Url.Text);
        }
        var grpc = configuration.GetSection(GrpcServerOptions.Section).Get<GrpcServerOptions>() ?? new GrpcServerOptions();
        if (grpc.Enabled && IsHttps(grpc.Url))
        {
            yield return (GrpcServerOptions.UrlKey, grpc.Url);
        }
    }

    private static bool IsHttps(string url) => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
}
