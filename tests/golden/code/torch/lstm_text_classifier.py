"""lstm_text_classifier as a PyTorch model, written by nbunify: (N, 12) token ids -> (N, 4)."""

import torch
import torch.nn.functional as F
from torch import nn


class LstmTextClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding_1 = nn.Embedding(40, 16)
        self.lstm_1 = nn.LSTM(16, 24, batch_first=True, bidirectional=True)
        self.dropout_1 = nn.Dropout(p=0.2)
        self.lstm_2 = nn.LSTM(48, 16, batch_first=True)
        self.dense_1 = nn.Linear(16, 4)

    def forward(self, x):
        x = self.embedding_1(x)  # (N, 12, 16)
        x, _ = self.lstm_1(x)  # (N, 12, 48)
        x = self.dropout_1(x)  # (N, 12, 48)
        _, (h, _) = self.lstm_2(x)  # h: (1, N, 16)
        x = h[-1]  # (N, 16)
        return F.softmax(self.dense_1(x), dim=1)  # (N, 4)


if __name__ == "__main__":
    model = LstmTextClassifier().eval()
    x = torch.randint(0, 40, (2, 12))
    with torch.no_grad():
        print(model(x).shape)  # torch.Size([2, 4])
