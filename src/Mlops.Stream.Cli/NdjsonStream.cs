using System.Runtime.CompilerServices;

namespace Mlops.Stream.Cli;

/// <summary>
/// An open NDJSON answer of the node (<see cref="AdminClient.OpenStreamAsync"/>): its lines as they
/// arrive. The stream breaking (the node stopped, the network failed) is exit code 3. Disposing it
/// closes the connection, which ends the stream on the node too.
/// </summary>
internal sealed class NdjsonStream(HttpResponseMessage response, System.IO.Stream body, string node) : IDisposable
{
    public const string MediaType = "application/x-ndjson";

    /// <summary>Non-empty lines until the node ends the answer.</summary>
    public async IAsyncEnumerable<string> ReadLinesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(body);
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                var reason = e is HttpRequestException http ? AdminClient.Innermost(http) : e.Message;
                throw new CliException(ExitCodes.Unavailable, $"the stream from {node} broke: {reason}");
            }
            if (line is null) yield break;
            if (line.Length > 0) yield return line;
        }
    }

    public void Dispose()
    {
        body.Dispose();
        response.Dispose();
    }
}
