package agents

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Provider names a language-model provider.
type Provider string

const (
	ProviderNone      Provider = "none" // rules only: the default
	ProviderOllama    Provider = "ollama"
	ProviderOpenAI    Provider = "openai" // OpenAI and any OpenAI-compatible server (vLLM, LM Studio, gateways)
	ProviderAnthropic Provider = "anthropic"
)

// Defaults for what the environment leaves out.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultRetries    = 2
	DefaultCaseBudget = 6
)

var defaultModel = map[Provider]string{
	ProviderOllama:    "llama3.1",
	ProviderOpenAI:    "gpt-4o-mini",
	ProviderAnthropic: "claude-3-5-haiku-latest",
}

// Config chooses and tunes the model behind the agents.
type Config struct {
	Provider Provider
	Model    string
	// BaseURL is the provider's endpoint: OLLAMA_HOST, OPENAI_BASE_URL or
	// ANTHROPIC_BASE_URL. Empty: the provider's public default.
	BaseURL string
	// APIKey is OPENAI_API_KEY or ANTHROPIC_API_KEY. It is never logged:
	// Config's String and LogValue leave it out.
	APIKey string
	// Timeout bounds one model request (EXOPS_LLM_TIMEOUT).
	Timeout time.Duration
	// Retries is how often a request is tried again after a transient
	// failure: 429, 5xx, a network error (EXOPS_LLM_RETRIES).
	Retries int
	// CaseBudget caps the model requests spent on one case, retries
	// included, over the life of the process (EXOPS_LLM_CASE_BUDGET);
	// beyond it the rules agent writes alone.
	CaseBudget int
	// HTTPClient carries the requests; nil uses a client with Timeout.
	HTTPClient *http.Client
}

// String describes the configuration without its secret.
func (c Config) String() string {
	if c.Provider == ProviderNone || c.Provider == "" {
		return "rules only (no language model)"
	}
	key := "no key"
	if c.APIKey != "" {
		key = "key set"
	}
	return fmt.Sprintf("%s model %s at %s (%s, timeout %s, %d retries, %d calls per case)",
		c.Provider, c.Model, or(c.BaseURL, "the provider's default endpoint"), key, c.Timeout, c.Retries, c.CaseBudget)
}

// LogValue keeps the key out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", string(c.Provider)), slog.String("model", c.Model),
		slog.String("base_url", c.BaseURL), slog.Bool("api_key_set", c.APIKey != ""),
		slog.Duration("timeout", c.Timeout), slog.Int("retries", c.Retries), slog.Int("case_budget", c.CaseBudget))
}

// ConfigFromEnv reads the model configuration from the environment:
// EXOPS_LLM_PROVIDER (none, ollama, openai, anthropic; default none),
// EXOPS_LLM_MODEL, and the variables the providers' own SDKs use:
// OLLAMA_HOST, OPENAI_BASE_URL, OPENAI_API_KEY, ANTHROPIC_BASE_URL,
// ANTHROPIC_API_KEY. EXOPS_LLM_TIMEOUT (a Go duration), EXOPS_LLM_RETRIES and
// EXOPS_LLM_CASE_BUDGET tune the calls. Errors name the variable to fix.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{Timeout: DefaultTimeout, Retries: DefaultRetries, CaseBudget: DefaultCaseBudget}
	p := Provider(strings.ToLower(strings.TrimSpace(getenv("EXOPS_LLM_PROVIDER"))))
	switch p {
	case "", ProviderNone:
		cfg.Provider = ProviderNone
		return cfg, nil
	case ProviderOllama, ProviderOpenAI, ProviderAnthropic:
		cfg.Provider = p
	default:
		return Config{}, fmt.Errorf("EXOPS_LLM_PROVIDER: unknown provider %q (want none, ollama, openai or anthropic)", p)
	}
	cfg.Model = or(strings.TrimSpace(getenv("EXOPS_LLM_MODEL")), defaultModel[p])
	if v := getenv("EXOPS_LLM_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("EXOPS_LLM_TIMEOUT: %q is not a positive duration such as 30s", v)
		}
		cfg.Timeout = d
	}
	for _, n := range []struct {
		name string
		dst  *int
		min  int
	}{{"EXOPS_LLM_RETRIES", &cfg.Retries, 0}, {"EXOPS_LLM_CASE_BUDGET", &cfg.CaseBudget, 1}} {
		if v := getenv(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < n.min {
				return Config{}, fmt.Errorf("%s: %q is not a whole number of at least %d", n.name, v, n.min)
			}
			*n.dst = i
		}
	}
	var err error
	switch p {
	case ProviderOllama:
		cfg.BaseURL, err = endpoint("OLLAMA_HOST", or(getenv("OLLAMA_HOST"), "http://localhost:11434"))
	case ProviderOpenAI:
		cfg.APIKey = getenv("OPENAI_API_KEY")
		if v := getenv("OPENAI_BASE_URL"); v != "" {
			cfg.BaseURL, err = endpoint("OPENAI_BASE_URL", v)
		} else if cfg.APIKey == "" {
			return Config{}, fmt.Errorf("OPENAI_API_KEY is not set: the OpenAI API needs a key (a local OpenAI-compatible server needs OPENAI_BASE_URL instead)")
		}
	case ProviderAnthropic:
		cfg.APIKey = getenv("ANTHROPIC_API_KEY")
		if cfg.APIKey == "" {
			return Config{}, fmt.Errorf("ANTHROPIC_API_KEY is not set: the Anthropic API needs a key")
		}
		if v := getenv("ANTHROPIC_BASE_URL"); v != "" {
			cfg.BaseURL, err = endpoint("ANTHROPIC_BASE_URL", v)
		}
	}
	if err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// endpoint checks a base URL. OLLAMA_HOST may be a bare host:port, as the
// Ollama CLI accepts it.
func endpoint(name, v string) (string, error) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%s: %q is not an http(s) URL", name, v)
	}
	if u.User != nil {
		// A password in the URL would end up in logs and errors.
		return "", fmt.Errorf("%s: put credentials in the API key variable, not in the URL", name)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
