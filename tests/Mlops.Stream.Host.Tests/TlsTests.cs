using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Host.Tests.Infrastructure;
using Mlops.Stream.Http;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Host.Tests;

/// <summary>
/// A node given a certificate (<c>Tls:CertificatePath</c>, <c>Tls:KeyPath</c>) serves HTTPS on its
/// HTTP port and TLS on its gRPC port with that certificate; keys and roles work as over plain HTTP;
/// the CLI trusts it with <c>--ca-cert</c>. The certificate is a self-signed one made here.
/// </summary>
public sealed class TlsTests
{
    private const string Model = "fraud-demo";
    private const string InferKey = "tls-infer-key-7c6b5a4f3e2d";

    [Fact]
    public async Task Both_ports_serve_the_configured_certificate_and_the_cli_trusts_it_with_ca_cert()
    {
        using var files = new TempDirectory("mlops-tls-");
        using var certificate = SelfSigned(files.Path, out var certificatePath, out var keyPath);
        await using var node = await TestNode.StartAsync(
            "--Http:Url=https://127.0.0.1:0", "--Grpc:Url=https://127.0.0.1:0",
            $"--Tls:CertificatePath={certificatePath}", $"--Tls:KeyPath={keyPath}", $"--Security:InferKeys:0={InferKey}");
        Assert.Equal("https", node.Address.Scheme);

        // HTTPS: the server presents exactly our certificate; inference needs the key as on plain HTTP.
        X509Certificate2? presented = null;
        using var https = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => { presented = new X509Certificate2(cert!); return true; } },
        }) { BaseAddress = node.Address };
        https.DefaultRequestHeaders.Authorization = new("Bearer", InferKey);
        await Eventually.ReadsAsync(() => https.GetAsync($"/v2/models/{Model}/ready"), r => r.IsSuccessStatusCode, "the model is ready over https", TimeSpan.FromSeconds(60));
        Assert.Equal(certificate.Thumbprint, presented!.Thumbprint);
        using (var infer = await https.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(InferBody())))
        {
            Assert.Equal(HttpStatusCode.OK, infer.StatusCode);
        }
        https.DefaultRequestHeaders.Authorization = null;
        using (var keyless = await https.PostAsync($"/v2/models/{Model}/infer", JsonBody.From(InferBody())))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, keyless.StatusCode);
        }

        // gRPC over TLS on its own port, with the same certificate.
        var system = await https.GetFromJsonAsync<SystemInfo>("/api/v1/system");
        Assert.StartsWith("https://", system!.GrpcAddress);
        presented = null;
        using var channel = GrpcChannel.ForAddress(system.GrpcAddress!, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => { presented = new X509Certificate2(cert!); return true; } },
            },
        });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        Assert.True((await grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.Equal(certificate.Thumbprint, presented!.Thumbprint);

        // The CLI refuses a certificate nothing vouches for, and trusts it once told to.
        var untrusted = await MlopsCli.RunAsync("models", "list", "--url", node.Address.ToString());
        Assert.Equal(3, untrusted.Code);
        Assert.Contains("--ca-cert", untrusted.Error);
        var trusted = await MlopsCli.RunAsync("models", "list", "--url", node.Address.ToString(), "--ca-cert", certificatePath);
        Assert.True(trusted.Code == 0, trusted.Error);
        Assert.Contains(Model, trusted.Output);
    }

    [Fact]
    public async Task Plain_http_to_an_https_port_gets_no_answer_in_the_clear()
    {
        using var files = new TempDirectory("mlops-tls-");
        using var certificate = SelfSigned(files.Path, out var certificatePath, out var keyPath);
        await using var node = await TestNode.StartAsync("--Http:Url=https://127.0.0.1:0", $"--Tls:CertificatePath={certificatePath}", $"--Tls:KeyPath={keyPath}");

        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.Address.Port}") };
        // Kestrel answers a plaintext request on a TLS port with a bare 400 or closes the connection:
        // either way nothing of the API is served in the clear.
        try
        {
            using var answer = await plain.GetAsync("/v2/health/live");
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        }
        catch (HttpRequestException)
        {
            // Closed: also fine.
        }
    }

    /// <summary>A self-signed server certificate for 127.0.0.1 and localhost, written as PEM (certificate and key apart).</summary>
    private static X509Certificate2 SelfSigned(string directory, out string certificatePath, out string keyPath)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=mlops-stream-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        certificatePath = Path.Combine(directory, "node.crt");
        keyPath = Path.Combine(directory, "node.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    private static byte[] InferBody() =>
        InferenceCodec.EncodeRequest(new InferenceRequest("tls-1", [Tensor.Create("features", new float[30], 1, 30)]));
}
