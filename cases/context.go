package cases

// Context keys: the names under which enrichment stores what the systems of
// record said about a case, and under which agents read it. Values are
// strings: numbers in Go's plain formatting, dates as YYYY-MM-DD.

func CtxCustomerName(id string) string    { return "customer/" + id + "/name" }
func CtxCustomerTier(id string) string    { return "customer/" + id + "/tier" }
func CtxDaysBeyondTerms(id string) string { return "customer/" + id + "/avg_days_beyond_terms" }
func CtxCreditLimit(id string) string     { return "credit/" + id + "/limit" }
func CtxCreditBalance(id string) string   { return "credit/" + id + "/balance" }
func CtxStock(sku, wh string) string      { return "stock/" + sku + "/" + wh }
func CtxPOPrice(po, sku string) string    { return "po/" + po + "/" + sku + "/unit_price" }
func CtxPOQuantity(po, sku string) string { return "po/" + po + "/" + sku + "/quantity" }
func CtxReceived(po, sku string) string   { return "receipt/" + po + "/" + sku + "/quantity" }
func CtxShipmentETA(id string) string     { return "shipment/" + id + "/eta" }
func CtxPromiseDate(order string) string  { return "order/" + order + "/promise_date" }

// CtxStockPrefix is the prefix of every stock key of one SKU.
func CtxStockPrefix(sku string) string { return "stock/" + sku + "/" }
