using IshChat.Bench;

// Load generator for the chat API: N clients, each with its own device and session, post a
// message and read the newest page back (with the consistency token, as a real client would).
//   dotnet run --project IshChat.Bench -c Release -- --url http://localhost:5080 --admin-key KEY --clients 16 --seconds 30
var options = BenchOptions.Parse(args);
using var http = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromSeconds(30) };
var results = await new ChatLoad(http, options).RunAsync();
Console.WriteLine(results.Report(options));
