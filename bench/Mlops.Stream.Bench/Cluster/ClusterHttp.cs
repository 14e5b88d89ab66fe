namespace Mlops.Stream.Bench.Cluster;

/// <summary>
/// What a load balancer in front of the cluster does, for a client of the whole cluster: each request
/// goes to the first node that takes it, in node order, and moves on to the next node when a node
/// cannot be reached or answers 503 (stopping, or not ready yet). A request every node refuses gets
/// the last node's answer or error. Addresses are read per request, so restarted nodes (new HTTP
/// ports) are followed.
/// </summary>
public sealed class ClusterHttp(LocalCluster cluster) : DelegatingHandler(new HttpClientHandler())
{
    public static HttpClient For(LocalCluster cluster) =>
        new(new ClusterHttp(cluster)) { BaseAddress = new Uri("http://cluster/"), Timeout = TimeSpan.FromSeconds(30) };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var nodes = cluster.Http.Select(h => h.BaseAddress!).ToArray();
        for (var i = 0; ; i++)
        {
            using var attempt = new HttpRequestMessage(request.Method, new Uri(nodes[i], request.RequestUri!.PathAndQuery));
            if (body is not null)
            {
                attempt.Content = new ByteArrayContent(body);
                foreach (var header in request.Content!.Headers) attempt.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            var last = i == nodes.Length - 1;
            try
            {
                var response = await base.SendAsync(attempt, cancellationToken);
                if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable || last) return response;
                response.Dispose();
            }
            catch (HttpRequestException) when (!last)
            {
                // Not listening (killed, or restarting on a new port): the next node.
            }
        }
    }
}
